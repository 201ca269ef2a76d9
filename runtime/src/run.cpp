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
//   [cgroup made, limits written]
//   clone ------------------------------->   [in a cgroup: wait CgroupJoined]
//   [pid -> cgroup.procs; CgroupJoined] -->
//                                            [new user ns: wait MappingsWritten]
//   [write uid/gid maps; MappingsWritten] -> setresuid/setresgid(0)
//                                            setns into namespaces given by path
//                                            unshare(CLONE_NEWCGROUP)
//                                            / rslave; bind rootfs onto itself;
//                                            spec mounts (openat2 IN_ROOT +
//                                            /proc/self/fd/N); devices; /dev
//                                            symlinks; hostname; lo up;
//                                            pivot_root(".", "."); sysctls;
//                                            maskedPaths; readonlyPaths; ro root
//                            <------------   ChildReady
//   StartContainer --------------------->    (the create/start boundary)
//                                            rlimits, umask, open the cwd,
//                                            close_range(3.., CLOEXEC),
//                                            [seccomp without no_new_privs],
//                                            bounding set, groups/gid/uid,
//                                            fchdir, capset, ambient,
//                                            no_new_privs
//                            <------------   [seccomp listener: SeccompFd (fd);
//   send it to listenerPath; SeccompDone ->   see seccomp_notify.cpp]
//                            <------------   create only: Created; the parent
//                                            records the state and exits; the
//                                            child blocks opening exec.fifo
//                                            O_WRONLY until `start` reads it
//                                            [seccomp with no_new_privs], execve
//                            <------------   EOF: exec succeeded (CLOEXEC socket)
//                                            or ExecFailed{errno} / SetupFailed
//                                            {step, errno, index, detail}
//   forward signals, waitpid, exit code
//
// Warning messages (a skipped cgroup mount, the sysfs fallback, a missing
// capability) can come at any time and are logged at debug level.
// The child is PID 1 of its pid namespace. The parent holds it in a Pid, so
// any error path kills and reaps it; the child of a foreground run has
// PDEATHSIG=SIGKILL. After create the Pid is detached: the process outlives
// its creator, which exits (the engine's subreaper reaps it, as with runc).
#include "bock/runtime/container.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>


#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/pid.hpp"
#include "bock/common/sys.hpp"
#include "bock/runtime/state.hpp"
#include "bock/userns/idmap.hpp"
#include "cgroup_setup.hpp"
#include "child.hpp"
#include "hook_points.hpp"
#include "messages.hpp"
#include "plan.hpp"
#include "signal_forwarder.hpp"
#include "seccomp_notify.hpp"
#include "terminal.hpp"

namespace bock::runtime {

namespace {

Result<void> write_id_maps(const Plan& plan, pid_t pid) {
    if (!plan.write_maps_directly) return userns::write_mappings(pid, plan.mappings);
    std::string proc = fmt::format("/proc/{}", pid);
    BOCK_TRY_CTX(fs::write_file(proc + "/uid_map", userns::format_map(plan.mappings.uids)), "write the uid mapping");
    BOCK_TRY_CTX(fs::write_file(proc + "/gid_map", userns::format_map(plan.mappings.gids)), "write the gid mapping");
    return ok();
}

}  // namespace

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

namespace {

[[noreturn]] void run_child(const Plan& plan, int sock) { child_main(plan, sock); }

// Writes the mappings, then answers the child's messages: StartContainer
// after ChildReady. Returns at EOF (exec done, or the child died) or, with
// `until_created`, when the child says it blocks on the exec fifo. Sets
// `started` once StartContainer is sent and `created` on that message.
Result<void> converse(const Plan& plan, const std::string& id, Pid& child, int sock, bool until_created,
                      bool& started, bool& created,
                      const std::function<Result<void>(pid_t)>& on_created = {}) {
    if (plan.new_user) {
        BOCK_TRY_CTX(write_id_maps(plan, child.get()), "set up the container's user namespace");
        int r = send_message(sock, MessageKind::mappings_written);
        if (r < 0) return Error(-r, "tell the container process its id mappings are written");
    }
    for (;;) {
        Message m;
        int passed = -1;
        int r = recv_message(sock, m, &passed);
        Fd passed_fd(passed);
        if (r < 0) return Error(-r, "read from the container process");
        if (r == 0) return ok();  // the socket closed on exec (or the child died)
        switch (m.kind) {
            case MessageKind::run_hooks: {
                BOCK_TRY(run_create_hooks(plan, id, child.get()));
                int s = send_message(sock, MessageKind::hooks_done);
                if (s < 0) return Error(-s, "tell the container process its hooks ran");
                break;
            }
            case MessageKind::idmap_request: {
                BOCK_TRY(idmap_for_child(plan, m.index, child.get()));
                int s = send_message(sock, MessageKind::idmap_done);
                if (s < 0) return Error(-s, "tell the container process its idmap mount is made");
                break;
            }
            case MessageKind::child_ready: {
                if (!until_created && on_created) BOCK_TRY(on_created(child.get()));
                if (!until_created) BOCK_TRY(run_start_hooks(plan, id, child.get()));
                int s = send_message(sock, MessageKind::start_container);
                if (s < 0) return Error(-s, "start the container process");
                started = true;
                break;
            }
            case MessageKind::created:
                created = true;
                if (until_created) return ok();
                break;
            case MessageKind::warning:
                log::debug("container `{}`: {}", id, describe_failure(m, plan).to_string());
                break;
            case MessageKind::seccomp_fd:
                BOCK_TRY(deliver_to_listener(plan, child.get(), sock, std::move(passed_fd)));
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
}

Result<Plan> prepare(const Spec& spec, const RunOptions& opts) {
    Plan plan = BOCK_TRY(build_plan(spec, opts));
    link_exec_arrays(plan);
    BOCK_TRY(plan_terminal(plan, spec.process.terminal, opts.console_socket));
    plan_listener_state(plan, spec, opts);
    log::debug("container `{}`: rootfs `{}`, clone flags {:#x}", opts.id, plan.rootfs, plan.clone_flags);
    return plan;
}

// Atomic but not fsync'ed (runc's too): the pid means nothing after a reboot.
Result<void> write_pid_file(const std::string& path, pid_t pid) {
    if (path.empty()) return ok();
    return fs::write_file_replace(path, std::to_string(pid), 0644, false).context("write the pid file");
}

// The container process, and its network namespace when clone made one:
// opened by the runtime right away (RunOptions::on_spawned), while it may
// (docs/netns-helper.md, "Why the engine opens the namespace").
struct Cloned {
    pid_t pid = -1;
    Fd netns;
};

// Rootless with a user namespace given by path: the namespaces made at
// clone, and a pid namespace given by path, belong to that user namespace,
// where we hold capabilities only once we are in it — and a process cannot
// setns back out of it. So a helper joins it (and the pid namespace) and
// clones the container process with CLONE_PARENT: a child of ours, born
// inside (runc's nsexec uses an intermediate process the same way; exec.cpp
// too). The helper reports the pid (or -errno) over a socket and exits. The
// child skips those joins (plan.clone_in_joined_user). Also used without a
// user namespace to join a pid namespace we could not come back from.
// A new network namespace is made by the helper itself (unshare, then a
// clone without CLONE_NEWNET) and sent with the pid: the child is root of
// the joined namespace, another id, and not dumpable before its exec, so
// nobody could open its /proc/PID/ns/net by pid.
Result<Cloned> clone_in_joined_user(const Plan& plan) {
    const NamespaceJoin* user = nullptr;
    const NamespaceJoin* pidns = nullptr;
    for (const auto& j : plan.joins) {
        if (j.nstype == CLONE_NEWUSER) user = &j;
        if (j.nstype == CLONE_NEWPID) pidns = &j;
    }
    FdPair pipe = BOCK_TRY(sys::socketpair_seqpacket());
    const bool new_net = user && (plan.clone_flags & CLONE_NEWNET);
    pid_t helper = BOCK_TRY_CTX(sys::clone_fork(0), "fork the helper that joins the container's namespaces");
    if (helper == 0) {
        // No allocation from here (child.hpp's rules).
        long answer = user ? sys::raw::setns(user->fd.get(), CLONE_NEWUSER) : 0;
        unsigned long flags = plan.clone_flags;
        int netns = -1;
        if (answer == 0 && new_net) {
            // Owned by the joined user namespace, as clone would make it.
            answer = ::unshare(CLONE_NEWNET) == 0 ? 0 : -errno;
            if (answer == 0) netns = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
            if (answer == 0 && netns < 0) answer = -errno;
            flags &= ~static_cast<unsigned long>(CLONE_NEWNET);
        }
        // Root of the joined namespace where it maps 0 (uid 0 of a rootless
        // session joining a namespace that does not map the session's 0
        // would otherwise create files as the overflow id: EOVERFLOW).
        if (user && answer == 0) {
            (void)::syscall(SYS_setresgid, 0, 0, 0);
            (void)::syscall(SYS_setresuid, 0, 0, 0);
        }
        if (answer == 0 && pidns) answer = sys::raw::setns(pidns->fd.get(), CLONE_NEWPID);
        if (answer == 0) {
            answer = ::syscall(SYS_clone, CLONE_PARENT | flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
            if (answer == 0) {
                if (netns >= 0) ::close(netns);
                return Cloned{0, {}};  // the container process: back to the caller (the socket closes)
            }
            if (answer < 0) answer = -errno;
        }
        if (answer > 0 && netns >= 0) (void)sys::raw::send_with_fd(pipe.second.get(), &answer, sizeof answer, netns);
        else (void)sys::raw::write_all(pipe.second.get(), &answer, sizeof answer);
        ::_exit(0);
    }
    pipe.second.reset();
    long answer = -EPROTO;
    int passed = -1;
    ssize_t n = sys::raw::recv_with_fd(pipe.first.get(), &answer, sizeof answer, &passed);
    Fd netns(passed);
    while (::waitpid(helper, nullptr, 0) < 0 && errno == EINTR) {
    }
    if (n != static_cast<ssize_t>(sizeof answer)) answer = -EPROTO;
    if (answer > 0 && new_net && !netns) {
        Pid orphan(static_cast<pid_t>(answer));  // killed and reaped
        return make_error("the container process's network namespace did not come with its pid");
    }
    if (answer < 0 && !user)
        return Error(static_cast<int>(-answer), fmt::format("create the container process in the pid namespace `{}`",
                                                            pidns ? pidns->path : std::string()));
    if (answer < 0)
        return Error(static_cast<int>(-answer),
                     fmt::format("create the container process in the user namespace `{}`", user->path))
            .with_hint("the user namespace must be one this user owns, e.g. another rootless container's");
    return Cloned{static_cast<pid_t>(answer), std::move(netns)};
}

// A pid namespace given by path holds the *children* of whoever calls
// setns(CLONE_NEWPID), not the caller: so the parent enters it around
// clone, the container process is born inside it, and the parent goes back
// to its own right away (its other children, hooks and newuidmap, stay in
// the runtime's namespace). The child's own setns of it is then a no-op.
// Right after the clone, in the parent: the new network namespace opened
// while the child still has our ids (it changes them only once told). Not
// fatal: a hook that needs it says so (RunOptions::on_spawned).
Cloned with_netns(const Plan& plan, pid_t pid) {
    Cloned c{pid, {}};
    if (pid > 0 && (plan.clone_flags & CLONE_NEWNET)) {
        auto ns = sys::open(fmt::format("/proc/{}/ns/net", pid), O_RDONLY);
        if (ns) c.netns = std::move(*ns);
        else log::debug("open the container's network namespace: {}", ns.error().to_string());
    }
    return c;
}

Result<Cloned> clone_container(const Plan& plan) {
    if (plan.clone_in_joined_user) return clone_in_joined_user(plan);
    const NamespaceJoin* join = nullptr;
    for (const auto& j : plan.joins)
        if (j.nstype == CLONE_NEWPID) join = &j;
    if (!join) {
        pid_t pid = BOCK_TRY(sys::clone_fork(plan.clone_flags));
        if (pid == 0) return Cloned{0, {}};
        return with_netns(plan, pid);
    }
    Fd own = BOCK_TRY_CTX(sys::open("/proc/self/ns/pid", O_RDONLY), "open the runtime's pid namespace");
    // Coming back needs CAP_SYS_ADMIN over the user namespace that owns our
    // own pid namespace, which a runtime inside a rootless session lacks
    // (its pid namespace is the host's): then a helper joins and clones
    // the container process for us (CLONE_PARENT), as above.
    if (!sys::setns(own.get(), CLONE_NEWPID)) return clone_in_joined_user(plan);
    if (auto r = sys::setns(join->fd.get(), CLONE_NEWPID); !r)
        return std::move(r.error())
            .wrap(fmt::format("join the pid namespace `{}`", join->path))
            .with_hint("the runtime needs CAP_SYS_ADMIN over the user namespace that owns it");
    auto pid = sys::clone_fork(plan.clone_flags);
    if (pid && *pid == 0) return Cloned{0, {}};  // the child: nothing more here
    if (auto r = sys::setns(own.get(), CLONE_NEWPID); !r) {
        if (pid) {
            Pid child(*pid);  // killed and reaped
        }
        return std::move(r.error()).wrap("return to the runtime's pid namespace");
    }
    if (!pid) return std::move(pid).error();
    return with_netns(plan, *pid);
}

}  // namespace

Result<int> run_container(const Spec& spec, const RunOptions& opts) {
    Plan plan = BOCK_TRY(prepare(spec, opts));
    Cgroup cgroup = BOCK_TRY(setup_container_cgroup(spec, opts));  // removed when this returns
    plan_cgroup(plan, cgroup.paths());
    FdPair socks = BOCK_TRY(sys::socketpair_seqpacket());
    SignalForwarder forwarder(opts.forward_signals);
    Cloned cloned = BOCK_TRY_CTX(clone_container(plan), "create the container process");
    pid_t pid = cloned.pid;
    if (pid == 0) {
        ::close(socks.first.get());
        run_child(plan, socks.second.get());
    }
    Pid child(pid);
    socks.second.reset();
    BOCK_TRY(join_cgroup(plan, cgroup.paths(), pid, socks.first.get()));
    forwarder.target(pid);
    BOCK_TRY(write_pid_file(opts.pid_file, pid));
    if (opts.on_spawned) BOCK_TRY(opts.on_spawned(pid, cloned.netns.get()));
    cloned.netns.reset();

    bool started = false, created = false;
    BOCK_TRY(converse(plan, opts.id, child, socks.first.get(), false, started, created, opts.on_created));
    if (started) run_poststart_hooks(plan, opts.id, pid);
    int status = BOCK_TRY_CTX(child.wait(), "wait for the container process");
    if (!started)
        return make_error("the container process ended during setup ({})", describe_status(status));
    run_poststop_hooks(plan, opts.id);
    return exit_code_from_status(status);
}

Result<CreatedProcess> create_container(const Spec& spec, const RunOptions& opts, const std::string& exec_fifo) {
    Plan plan = BOCK_TRY(prepare(spec, opts));
    // The container outlives this process: no parent-death signal. The
    // fifo is opened O_PATH here, on the host, and reopened by the child
    // through /proc/self/fd after pivot_root.
    plan.parent_death_signal = opts.create_parent_death_signal;
    Cgroup cgroup = BOCK_TRY(setup_container_cgroup(spec, opts));  // removed on any error below
    plan_cgroup(plan, cgroup.paths());
    Fd fifo = BOCK_TRY_CTX(sys::open(exec_fifo, O_PATH), "open the exec fifo");
    plan.exec_fifo_fd = fifo.get();
    FdPair socks = BOCK_TRY(sys::socketpair_seqpacket());
    Cloned cloned = BOCK_TRY_CTX(clone_container(plan), "create the container process");
    pid_t pid = cloned.pid;
    if (pid == 0) {
        ::close(socks.first.get());
        run_child(plan, socks.second.get());
    }
    Pid child(pid);  // killed and reaped on any error below
    socks.second.reset();
    BOCK_TRY(join_cgroup(plan, cgroup.paths(), pid, socks.first.get()));
    if (opts.on_spawned) BOCK_TRY(opts.on_spawned(pid, cloned.netns.get()));
    cloned.netns.reset();

    bool started = false, created = false;
    BOCK_TRY(converse(plan, opts.id, child, socks.first.get(), true, started, created));
    if (!created) {
        int status = BOCK_TRY_CTX(child.wait(), "wait for the container process");
        return make_error("the container process ended during setup ({})", describe_status(status));
    }
    // Before the caller can release it: what it attached in on_spawned
    // (a network helper) is ready when its command runs.
    if (opts.on_created) BOCK_TRY(opts.on_created(pid));
    auto start_time = process_start_time(pid);
    if (!start_time) return make_error("the container process {} ended right after setup", pid);
    BOCK_TRY(write_pid_file(opts.pid_file, pid));
    // Left running, blocked on the fifo. When the caller exits it is
    // reparented to the nearest subreaper (the engine's monitor) or init.
    child.detach();
    cgroup.release();  // `delete` removes it (recorded in the state)
    return CreatedProcess{pid, *start_time, cgroup.paths()};
}

Result<void> start_container(const std::string& exec_fifo, pid_t pid) {
    // Non-blocking open: a reader on a fifo does not wait for a writer. Then
    // wait for the child's byte, or for the child to die (its pidfd).
    // The pidfd first: opening the fifo releases the process, which may
    // exec, exit and be reaped (by the engine) before we look at it.
    Fd pidfd = BOCK_TRY_CTX(sys::pidfd_open(pid), "watch the container process");
    Fd fifo = BOCK_TRY_CTX(sys::open(exec_fifo, O_RDONLY | O_NONBLOCK), "open the exec fifo");
    for (;;) {
        struct pollfd fds[2] = {{fifo.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return errno_error("wait for the container process");
        }
        if (fds[0].revents & POLLIN) {
            char byte;
            ssize_t n = ::read(fifo.get(), &byte, 1);
            if (n == 1) break;
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        }
        if (fds[1].revents & POLLIN) return make_error("the container process {} exited before it was started", pid);
        if (fds[0].revents & POLLHUP) return make_error("the container process {} closed the exec fifo", pid);
    }
    if (::unlink(exec_fifo.c_str()) < 0 && errno != ENOENT) return errno_error("remove `{}`", exec_fifo);
    return ok();
}

}  // namespace bock::runtime
