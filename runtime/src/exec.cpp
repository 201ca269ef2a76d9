// exec: another process in a running container (exec.hpp).
//
// THE PROCESS MODEL (as runc's nsexec, with Bock's typed messages)
//
//   parent (bock-oci exec)          first child              the process
//   ----------------------          -----------              -----------
//   open /proc/INIT/ns/* that
//   differ from ours (user first)
//   [connect --console-socket]
//   clone ------------------------> wait
//   write its pid into INIT's
//   cgroups (cgroup.procs)
//   StartContainer --------------> setns: user, then ipc,
//                                  uts, net, pid, cgroup,
//                                  time, mnt (root and cwd
//                                  become the container's)
//                                  clone(CLONE_PARENT) ----> (inside the pid
//                   <------------  ExecPid{pid}; _exit(0)     namespace; a child
//   reap the first child                                      of the parent)
//   StartContainer ------------------------------------------> [pty: open the
//                                                              container's ptmx,
//                                                              send the master]
//                                                              limits, user, cwd,
//                                                              caps, no_new_privs,
//                                                              fds, seccomp, execve
//                   <------------------------------------------ EOF, or
//                                                              SetupFailed /
//                                                              ExecFailed
//   foreground: forward signals, wait, exit code; detach: pid file, return 0
//
// The second clone is needed because setns into a pid namespace only
// applies to children. CLONE_PARENT makes the process the parent's own
// child, so it can be waited for (foreground) or is reparented with the
// parent's other children to the engine's subreaper (detach). The
// children follow child.hpp's rules: no allocation, failures as messages.
#include "bock/runtime/exec.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <optional>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/pid.hpp"
#include "bock/common/sys.hpp"
#include "child.hpp"
#include "messages.hpp"
#include "signal_forwarder.hpp"
#include "plan.hpp"
#include "pty_proxy.hpp"
#include "seccomp.hpp"
#include "seccomp_notify.hpp"
#include "terminal.hpp"

namespace bock::runtime {

namespace {

// ---- the children (no allocation from here to exec) ----------------------

void wait_start(Child& c) {
    Message m;
    int r = recv_message(c.sock, m);
    if (r == 0) ::_exit(125);  // the parent gave up
    if (r < 0) child_fail(c, Step::wait_start, -r);
    if (m.kind != MessageKind::start_container) child_fail(c, Step::wait_start, EPROTO);
}

[[noreturn]] void run_process(Child& c) {
    if (c.plan.parent_death_signal) (void)::prctl(PR_SET_PDEATHSIG, c.plan.parent_death_signal, 0, 0, 0);
    wait_start(c);
    if (c.plan.output_fd.valid()) {
        const int from[3] = {c.plan.stdin_fd.get(), c.plan.output_fd.get(), c.plan.output_fd.get()};
        for (int target = 0; target < 3; ++target)
            if (::dup2(from[target], target) < 0) child_fail(c, Step::controlling_tty, errno, target, "dup2");
    }
    setup_terminal(c);
    setup_process(c);
    exec_process(c);
}

[[noreturn]] void join_and_fork(const Plan& plan, int sock) {
    Child c{plan, sock, -1};
    reset_signals();
    wait_start(c);
    for (size_t i = 0; i < plan.joins.size(); ++i) {
        int r = sys::raw::setns(plan.joins[i].fd.get(), plan.joins[i].nstype);
        if (r < 0) child_fail(c, Step::join_namespace, -r, static_cast<int>(i));
    }
    long pid = ::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
    if (pid < 0) child_fail(c, Step::exec_fork, errno);
    if (pid == 0) run_process(c);
    (void)send_message(sock, MessageKind::exec_pid, Step::none, 0, static_cast<int>(pid));
    ::_exit(0);
}

// ---- the parent -----------------------------------------------------------

struct NsType {
    const char* name;
    int flag;
};
// The user namespace first (it decides what the others allow), the mount
// namespace last (it changes root and working directory).
constexpr NsType kJoinOrder[] = {{"user", CLONE_NEWUSER}, {"ipc", CLONE_NEWIPC},   {"uts", CLONE_NEWUTS},
                                 {"net", CLONE_NEWNET},   {"pid", CLONE_NEWPID},   {"cgroup", CLONE_NEWCGROUP},
                                 {"time", CLONE_NEWTIME}, {"mnt", CLONE_NEWNS}};

// Opens every namespace of the container's first process that is not
// already ours (setns into one's own user namespace is refused).
Result<void> plan_joins(const ContainerState& st, Plan& p) {
    for (const auto& ns : kJoinOrder) {
        std::string path = fmt::format("/proc/{}/ns/{}", st.pid, ns.name);
        auto fd = sys::open(path, O_RDONLY);
        if (!fd) {
            if (fd.error().code() == ENOENT && std::string_view(ns.name) == "time") continue;  // older kernels
            return std::move(fd).error().wrap(fmt::format("join the container's {} namespace", ns.name));
        }
        struct stat theirs, ours;
        std::string self = fmt::format("/proc/self/ns/{}", ns.name);
        if (::fstat(fd->get(), &theirs) == 0 && ::stat(self.c_str(), &ours) == 0 && theirs.st_ino == ours.st_ino &&
            theirs.st_dev == ours.st_dev)
            continue;
        p.joins.push_back({std::move(*fd), ns.flag, path});
    }
    // The namespaces must be those of the recorded process, not of a
    // process that reused its pid meanwhile.
    if (!process_alive(st)) return make_error("container `{}` is not running", st.id);
    return ok();
}

// The cgroup directory on this host for one line of /proc/PID/cgroup
// ("4:memory:/x", "1:name=systemd:/x", "0::/x"); empty if unknown.
std::string cgroup_dir(std::string_view controllers, std::string_view path) {
    std::string base;
    if (controllers.empty())
        base = fs::exists("/sys/fs/cgroup/cgroup.controllers") ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified";
    else if (controllers.rfind("name=", 0) == 0)
        base = fmt::format("/sys/fs/cgroup/{}", controllers.substr(5));
    else
        base = fmt::format("/sys/fs/cgroup/{}", controllers);
    return base + std::string(path);
}

// Moves `pid` into each cgroup of the container's first process. A cgroup
// that cannot be written (rootless without delegation, a hierarchy that is
// not mounted) is skipped: the process then stays where its caller is.
void join_cgroups(pid_t init, pid_t pid) {
    auto text = fs::read_file(fmt::format("/proc/{}/cgroup", init));
    if (!text) return;
    size_t start = 0;
    while (start < text->size()) {
        size_t end = text->find('\n', start);
        if (end == std::string::npos) end = text->size();
        std::string_view line(text->data() + start, end - start);
        start = end + 1;
        size_t a = line.find(':'), b = a == std::string_view::npos ? a : line.find(':', a + 1);
        if (b == std::string_view::npos) continue;
        std::string dir = cgroup_dir(line.substr(a + 1, b - a - 1), line.substr(b + 1));
        auto r = fs::write_file(dir + "/cgroup.procs", std::to_string(pid));
        if (!r) log::debug("exec: not joining cgroup `{}`: {}", dir, r.error().to_string());
    }
}

Result<Plan> exec_plan(const ContainerState& st, const Process& proc, const ExecOptions& opts, Fd proxy_end) {
    Spec config = BOCK_TRY_CTX(load_spec(st.bundle), fmt::format("exec in container `{}`", st.id));
    Spec s;
    s.process = proc;
    Plan p;
    BOCK_TRY(plan_process(s, p));
    // The container's seccomp filter applies to every process in it (runc).
    if (config.seccomp) p.seccomp = BOCK_TRY(build_seccomp_cached(*config.seccomp, opts.seccomp_cache_dir));
    plan_listener_state(p, st);
    p.preserve_fds = opts.preserve_fds;
    p.parent_death_signal = opts.detach ? 0 : SIGKILL;
    link_exec_arrays(p);
    BOCK_TRY(plan_joins(st, p));
    if (proxy_end)
        p.console_socket = std::move(proxy_end);
    else
        BOCK_TRY(plan_terminal(p, proc.terminal, opts.console_socket));
    if (opts.output_fd >= 0) {
        p.stdin_fd = BOCK_TRY(sys::open("/dev/null", O_RDONLY));
        p.output_fd = Fd(::fcntl(opts.output_fd, F_DUPFD_CLOEXEC, 3));
        if (!p.output_fd) return errno_error("duplicate the exec'd process's output fd");
    }
    return p;
}

// Until EOF: the process exec'd. A failure report is turned into an Error.
Result<void> wait_exec(const Plan& plan, Pid& proc, int sock) {
    for (;;) {
        Message m;
        int passed = -1;
        int r = recv_message(sock, m, &passed);
        Fd passed_fd(passed);
        if (r < 0) return Error(-r, "read from the exec'd process");
        if (r == 0) return ok();
        switch (m.kind) {
            case MessageKind::warning:
                log::debug("exec: {}", describe_failure(m, plan).to_string());
                break;
            case MessageKind::seccomp_fd:  // the container's filter has a listener
                BOCK_TRY(deliver_to_listener(plan, proc.get(), sock, std::move(passed_fd)));
                break;
            case MessageKind::setup_failed: {
                Error e = describe_failure(m, plan);
                (void)proc.wait();
                return e;
            }
            case MessageKind::exec_failed:
                (void)proc.wait();
                return exec_error(m.err, plan.command);
            default:
                return make_error("unexpected message {} from the exec'd process", static_cast<int>(m.kind));
        }
    }
}

// Starts the first child and returns the process it forks in the container.
Result<Pid> start_in_container(const ContainerState& st, const Plan& plan, int sock, Pid& first) {
    join_cgroups(st.pid, first.get());
    if (int r = send_message(sock, MessageKind::start_container); r < 0) return Error(-r, "start the exec process");
    Message m;
    int r = recv_message(sock, m);
    if (r < 0) return Error(-r, "read from the exec process");
    if (r > 0 && m.kind == MessageKind::setup_failed) {
        (void)first.wait();
        return describe_failure(m, plan);
    }
    if (r == 0 || m.kind != MessageKind::exec_pid || m.index <= 0) {
        int status = BOCK_TRY(first.wait());
        return make_error("the exec process ended while joining the container ({})", describe_status(status));
    }
    Pid proc(m.index);
    (void)first.wait();
    return proc;
}

// Waits for the exec'd process; past `timeout_ms` (0: never) kills it and
// says so with ETIMEDOUT.
Result<int> wait_with_timeout(Pid& proc, int timeout_ms) {
    if (timeout_ms > 0) {
        auto pidfd = BOCK_TRY_CTX(sys::pidfd_open(proc.get()), "watch the exec'd process");
        struct pollfd p{pidfd.get(), POLLIN, 0};
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        for (;;) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                (void)sys::pidfd_send_signal(pidfd.get(), SIGKILL);
                (void)proc.wait();
                return Error(ETIMEDOUT, fmt::format("the process ran longer than its timeout ({} ms) and was killed",
                                                    timeout_ms));
            }
            int r = ::poll(&p, 1, static_cast<int>(left.count()));
            if (r > 0) break;
            if (r < 0 && errno != EINTR) return errno_error("wait for the exec'd process");
        }
    }
    return BOCK_TRY_CTX(proc.wait(), "wait for the exec'd process");
}

}  // namespace

Result<int> exec_in_container(const ContainerState& st, const Process& proc, const ExecOptions& opts) {
    if (!process_alive(st))
        return make_error("container `{}` is not running", st.id).with_hint("`exec` needs a created or running container");
    // A terminal and no one to send it to: the runtime proxies it itself.
    std::optional<PtyProxy> proxy;
    Process p = proc;
    if (proc.terminal && opts.console_socket.empty()) {
        if (opts.detach)
            return make_error("a detached process with a terminal needs --console-socket (no one would hold the "
                              "terminal)")
                .with_hint("drop -t, or pass --console-socket PATH");
        proxy = BOCK_TRY(PtyProxy::make());
        if (!p.console_size) p.console_size = caller_console_size();
    }
    Plan plan = BOCK_TRY(exec_plan(st, p, opts, proxy ? proxy->take_process_end() : Fd()));
    FdPair socks = BOCK_TRY(sys::socketpair_seqpacket());
    FdPair wake;  // before the forwarder: it stops writing to it before it is closed
    SignalForwarder forwarder(!opts.detach);
    if (proxy) {
        wake = BOCK_TRY(sys::pipe());
        (void)::fcntl(wake.second.get(), F_SETFL, O_NONBLOCK);
        forwarder.notify(wake.second.get());
    }
    pid_t pid = BOCK_TRY_CTX(sys::clone_fork(0), "create the exec process");
    if (pid == 0) {
        ::close(socks.first.get());
        join_and_fork(plan, socks.second.get());
    }
    Pid first(pid);
    socks.second.reset();
    plan.console_socket.reset();  // the process holds it now
    plan.stdin_fd.reset();
    plan.output_fd.reset();

    Pid process = BOCK_TRY(start_in_container(st, plan, socks.first.get(), first));
    forwarder.target(process.get());
    if (int r = send_message(socks.first.get(), MessageKind::start_container); r < 0)
        return Error(-r, "start the exec process");
    BOCK_TRY(wait_exec(plan, process, socks.first.get()));
    if (proxy) BOCK_TRY(proxy->receive_master());
    if (!opts.pid_file.empty())
        BOCK_TRY_CTX(fs::write_file_replace(opts.pid_file, std::to_string(process.get()), 0644, false), "write the pid file");
    if (opts.detach) {
        process.detach();  // reparented to the caller's subreaper when it exits
        return 0;
    }
    int status = proxy ? BOCK_TRY(proxy->run(process, wake.first.get(), opts.proxy_stdin))
                       : BOCK_TRY(wait_with_timeout(process, opts.timeout_ms));
    return exit_code_from_status(status);
}

}  // namespace bock::runtime
