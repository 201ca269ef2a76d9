// run_container: the parent side of starting a container.
//
// THE PROCESS MODEL
//
// The caller (bock, already uid 0 in its rootless session's user namespace,
// or real root, or bock-oci) parses config.json and builds a Plan
// (plan.hpp) BEFORE cloning: every path, mount flag and data string, the
// argv/envp arrays, capability masks, limits, ids and the container's PATH.
// The child may be cloned from a multi-threaded process, so between clone
// and exec it allocates nothing and takes no locks: it only reads the plan
// and makes system calls (child.hpp).
//
// Parent and child talk over an AF_UNIX SOCK_SEQPACKET socketpair with
// fixed-size typed messages (messages.hpp):
//
//   parent                                   child (clone: new mount, pid,
//   ------                                   uts, ipc, net, cgroup [, user] ns)
//   clone ------------------------------->   [new user ns: wait MappingsWritten]
//   [write uid/gid maps; MappingsWritten] -> setresuid/setresgid(0)
//                                            setns into namespaces given by path
//                                            / rslave; bind rootfs onto itself;
//                                            spec mounts (openat2 IN_ROOT +
//                                            /proc/self/fd/N); devices; /dev
//                                            symlinks; hostname; lo up;
//                                            pivot_root(".", "."); sysctls;
//                                            maskedPaths; readonlyPaths; ro root
//                            <------------   ChildReady
//   StartContainer --------------------->    ("create" will stop before this)
//                                            rlimits, umask, bounding set,
//                                            groups/gid/uid, cwd, capset,
//                                            ambient, no_new_privs,
//                                            close_range(3.., CLOEXEC), execve
//                            <------------   EOF: exec succeeded (CLOEXEC socket)
//                                            or ExecFailed{errno} / SetupFailed
//                                            {step, errno, index, detail}
//   forward signals, waitpid, exit code
//
// Warning messages (a skipped cgroup mount, the sysfs fallback, a missing
// capability) can come at any time and are logged at debug level.
// The child is PID 1 of its pid namespace. The parent holds it in a Pid, so
// any error path kills and reaps it; the child has PDEATHSIG=SIGKILL.
#include "bock/runtime/container.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/pid.hpp"
#include "bock/common/sys.hpp"
#include "bock/userns/idmap.hpp"
#include "child.hpp"
#include "messages.hpp"
#include "plan.hpp"

namespace bock::runtime {

namespace {

std::atomic<pid_t> g_forward_to{0};
static_assert(std::atomic<pid_t>::is_always_lock_free);

void forward_signal(int sig) {
    pid_t pid = g_forward_to.load(std::memory_order_relaxed);
    if (pid > 0) ::kill(pid, sig);
}

// Forwards the usual signals to the container while it runs; restores the
// caller's handlers when it goes away.
class SignalForwarder {
public:
    static constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

    explicit SignalForwarder(bool enabled) : enabled_(enabled) {
        if (!enabled_) return;
        struct sigaction sa = {};
        sa.sa_handler = forward_signal;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < std::size(kSignals); ++i) ::sigaction(kSignals[i], &sa, &old_[i]);
    }
    ~SignalForwarder() {
        if (!enabled_) return;
        g_forward_to.store(0);
        for (size_t i = 0; i < std::size(kSignals); ++i) ::sigaction(kSignals[i], &old_[i], nullptr);
    }
    SignalForwarder(const SignalForwarder&) = delete;
    SignalForwarder& operator=(const SignalForwarder&) = delete;
    void target(pid_t pid) {
        if (enabled_) g_forward_to.store(pid);
    }

private:
    bool enabled_;
    struct sigaction old_[std::size(kSignals)] = {};
};

Result<void> write_id_maps(const Plan& plan, pid_t pid) {
    if (!plan.write_maps_directly) return userns::write_mappings(pid, plan.mappings);
    std::string proc = fmt::format("/proc/{}", pid);
    BOCK_TRY_CTX(fs::write_file(proc + "/uid_map", userns::format_map(plan.mappings.uids)), "write the uid mapping");
    BOCK_TRY_CTX(fs::write_file(proc + "/gid_map", userns::format_map(plan.mappings.gids)), "write the gid mapping");
    return ok();
}

Error exec_error(int err, const std::string& cmd) {
    bool has_slash = cmd.find('/') != std::string::npos;
    switch (err) {
        case ENOENT:
            if (!has_slash) return make_error("exec `{}`: executable file not found in $PATH", cmd).with_exit(127);
            return make_error("exec `{}`: no such file or directory", cmd).with_exit(127);
        case EACCES:
        case EPERM:
            return make_error("exec `{}`: permission denied", cmd).with_exit(126);
        case ENOEXEC:
            return make_error("exec `{}`: exec format error (not a binary for this machine, or a script without #!)", cmd)
                .with_exit(126);
        default:
            return Error(err, fmt::format("exec `{}`", cmd)).with_exit(126);
    }
}

std::string describe_status(int status) {
    if (WIFSIGNALED(status)) return fmt::format("killed by signal {}", WTERMSIG(status));
    if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
    return "unknown status";
}

[[noreturn]] void run_child(const Plan& plan, int sock) { child_main(plan, sock); }

}  // namespace

Result<int> run_container(const Spec& spec, const RunOptions& opts) {
    Plan plan = BOCK_TRY(build_plan(spec, opts));
    link_exec_arrays(plan);
    if (spec.process.terminal)
        log::debug("process.terminal: not supported yet; the container uses the caller's stdio");
    log::debug("container `{}`: rootfs `{}`, clone flags {:#x}", opts.id, plan.rootfs, plan.clone_flags);

    FdPair socks = BOCK_TRY(sys::socketpair_seqpacket());
    SignalForwarder forwarder(opts.forward_signals);
    pid_t pid = BOCK_TRY_CTX(sys::clone_fork(plan.clone_flags), "create the container process");
    if (pid == 0) {
        ::close(socks.first.get());
        run_child(plan, socks.second.get());
    }
    Pid child(pid);
    socks.second.reset();
    int sock = socks.first.get();
    forwarder.target(pid);

    if (plan.new_user) {
        BOCK_TRY_CTX(write_id_maps(plan, pid), "set up the container's user namespace");
        int r = send_message(sock, MessageKind::mappings_written);
        if (r < 0) return Error(-r, "tell the container process its id mappings are written");
    }

    bool started = false;
    for (;;) {
        Message m;
        int r = recv_message(sock, m);
        if (r < 0) return Error(-r, "read from the container process");
        if (r == 0) break;  // the socket closed on exec (or the child died)
        switch (m.kind) {
            case MessageKind::child_ready: {
                int s = send_message(sock, MessageKind::start_container);
                if (s < 0) return Error(-s, "start the container process");
                started = true;
                break;
            }
            case MessageKind::warning:
                log::debug("container `{}`: {}", opts.id, describe_failure(m, plan).to_string());
                break;
            case MessageKind::setup_failed: {
                Error e = describe_failure(m, plan);
                (void)child.wait();
                return e;
            }
            case MessageKind::exec_failed:
                (void)child.wait();
                return exec_error(m.err, plan.command);
            default:
                return make_error("unexpected message {} from the container process", static_cast<int>(m.kind));
        }
    }
    int status = BOCK_TRY_CTX(child.wait(), "wait for the container process");
    if (!started)
        return make_error("the container process ended during setup ({})", describe_status(status));
    return exit_code_from_status(status);
}

}  // namespace bock::runtime
