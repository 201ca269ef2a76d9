#include "bock/common/pid.hpp"

#include <signal.h>
#include <sys/wait.h>

namespace bock {

Pid::~Pid() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        int st;
        while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
        }
    }
}

Pid& Pid::operator=(Pid&& o) noexcept {
    if (this != &o) {
        Pid old(std::exchange(pid_, std::exchange(o.pid_, -1)));
        (void)old;  // the previous process, if any, is killed and reaped here
    }
    return *this;
}

Result<int> Pid::wait() {
    if (pid_ <= 0) return Error(ECHILD, "wait: no process");
    int status = 0;
    for (;;) {
        pid_t r = ::waitpid(pid_, &status, 0);
        if (r == pid_) break;
        if (r < 0 && errno == EINTR) continue;
        return errno_error("wait for process {}", pid_);
    }
    pid_ = -1;
    return status;
}

Result<void> Pid::kill(int sig) const {
    if (pid_ <= 0) return ok();
    if (::kill(pid_, sig) < 0 && errno != ESRCH) return errno_error("kill process {}", pid_);
    return ok();
}

int exit_code_from_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 125;
}

}  // namespace bock
