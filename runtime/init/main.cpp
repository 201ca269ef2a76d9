// bock-init: the minimal PID 1 of `bock run --init`, bind-mounted read-only
// at /run/bock-init. It starts the command after `--` as its child, forwards
// every catchable signal to it, reaps every zombie of the pid namespace and
// exits with the child's status (128+N when it was killed by signal N).
// libc only, linked statically: it must run in any image.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
    int first = 1;
    if (first < argc && strcmp(argv[first], "--") == 0) first++;
    if (first >= argc) {
        fprintf(stderr, "bock-init: usage: bock-init -- COMMAND [ARG...]\n");
        return 125;
    }
    // A handler for every signal: the kernel drops signals a namespace's
    // init leaves at SIG_DFL, blocked or not (and `bock stop` reads SigCgt
    // to know whether SIGTERM can act). They are taken with sigwait.
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = [](int) {};
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP) sigaction(s, &sa, nullptr);
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    pid_t child = fork();
    if (child < 0) {
        perror("bock-init: fork");
        return 125;
    }
    if (child == 0) {
        sa.sa_handler = SIG_DFL;
        for (int s = 1; s < NSIG; s++)
            if (s != SIGKILL && s != SIGSTOP) sigaction(s, &sa, nullptr);
        sigprocmask(SIG_SETMASK, &old, nullptr);
        setpgid(0, 0);
        execvp(argv[first], argv + first);
        int err = errno;
        fprintf(stderr, "bock-init: exec %s: %s\n", argv[first], strerror(err));
        _exit(err == ENOENT ? 127 : 126);
    }
    for (;;) {
        int sig = 0;
        if (sigwait(&all, &sig) != 0) continue;
        if (sig != SIGCHLD) {
            kill(child, sig);
            continue;
        }
        for (;;) {
            int status;
            pid_t p = waitpid(-1, &status, WNOHANG);
            if (p <= 0) break;
            if (p == child) {
                // Whatever else is left dies with us (the namespace's init).
                if (WIFEXITED(status)) return WEXITSTATUS(status);
                if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
                return 125;
            }
        }
    }
}
