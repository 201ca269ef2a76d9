// The container's first process from clone to exec, as a straight list of
// steps (the process model is described at the top of run.cpp).
#include "child.hpp"

#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "bock/common/sys.hpp"
#include "terminal.hpp"

namespace bock::runtime {

namespace raw = bock::sys::raw;

void child_fail(const Child& c, Step step, int err, int index, const char* detail) {
    (void)send_message(c.sock, MessageKind::setup_failed, step, err, index, detail);
    ::_exit(125);
}

void child_warn(const Child& c, Step step, int err, int index, const char* detail) {
    (void)send_message(c.sock, MessageKind::warning, step, err, index, detail);
}

// Signal handlers and the mask come from the caller; the container starts
// with the defaults (exec would keep ignored signals ignored).
void reset_signals() {
    struct sigaction sa = {};
    sa.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        (void)::sigaction(sig, &sa, nullptr);  // glibc's internal signals refuse: fine
    }
    sigset_t none;
    sigemptyset(&none);
    (void)::sigprocmask(SIG_SETMASK, &none, nullptr);
}

namespace {

void wait_for(Child& c, MessageKind kind, Step step) {
    Message m;
    int r = recv_message(c.sock, m);
    if (r == 0) ::_exit(125);  // the parent gave up (and said why)
    if (r < 0) child_fail(c, step, -r);
    if (m.kind != kind) child_fail(c, step, EPROTO);
}

void become_root(Child& c) {
    if (::syscall(SYS_setresgid, 0, 0, 0) < 0) child_fail(c, Step::become_root, errno);
    if (::syscall(SYS_setresuid, 0, 0, 0) < 0) child_fail(c, Step::become_root, errno);
}

void join_namespaces(Child& c) {
    const Plan& p = c.plan;
    for (size_t i = 0; i < p.joins.size(); ++i) {
        int type = p.joins[i].nstype;
        if (p.clone_in_joined_user && (type == CLONE_NEWUSER || type == CLONE_NEWPID)) continue;  // born there
        int r = raw::setns(p.joins[i].fd.get(), type);
        if (r < 0) child_fail(c, Step::join_namespace, -r, static_cast<int>(i));
    }
}

void set_names(Child& c) {
    const Plan& p = c.plan;
    if (p.set_hostname && ::sethostname(p.hostname.c_str(), p.hostname.size()) < 0)
        child_fail(c, Step::hostname, errno);
    if (p.set_domainname && ::setdomainname(p.domainname.c_str(), p.domainname.size()) < 0)
        child_fail(c, Step::domainname, errno);
}

// After pivot_root: /proc/sys is the container's own.
void write_sysctls(Child& c) {
    const Plan& p = c.plan;
    for (size_t i = 0; i < p.sysctls.size(); ++i) {
        int idx = static_cast<int>(i);
        int fd = open_in_root(c.rootfd, p.sysctls[i].path.c_str(), O_WRONLY | O_TRUNC);
        if (fd < 0) child_fail(c, Step::sysctl, -fd, idx);
        int r = raw::write_all(fd, p.sysctls[i].value.data(), p.sysctls[i].value.size());
        if (r < 0) child_fail(c, Step::sysctl, -r, idx);
        ::close(fd);
    }
}

// create: tell the parent we are set up (it records the state and exits),
// then block until `start` opens the fifo for reading. The fifo is reached
// through the O_PATH fd the parent opened before clone: its host path is
// gone after pivot_root, and the magic link needs no search permission on
// the state directory.
void wait_exec_fifo(Child& c) {
    char path[32];
    sys::raw::fd_path(path, c.plan.exec_fifo_fd);
    // Probe first, while the parent still listens: ENXIO (no reader yet)
    // means the fifo is reachable.
    int probe = ::open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (probe >= 0) ::close(probe);
    else if (errno != ENXIO) child_fail(c, Step::exec_fifo, errno);
    if (send_message(c.sock, MessageKind::created) < 0) ::_exit(125);
    int fd;
    do fd = ::open(path, O_WRONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) ::_exit(125);  // nobody is left to tell
    if (raw::write_all(fd, "0", 1) < 0) ::_exit(125);
    ::close(fd);
    ::close(c.plan.exec_fifo_fd);
}

}  // namespace

void child_main(const Plan& plan, int sock) {
    Child c{plan, sock, -1};
    // The runtime's death ends the container it was setting up (and, for a
    // foreground run, the container too). Not for `create`: its runtime
    // exits and leaves the container waiting for `start`.
    if (plan.parent_death_signal) (void)::prctl(PR_SET_PDEATHSIG, plan.parent_death_signal, 0, 0, 0);
    reset_signals();
    if (plan.wait_cgroup) wait_for(c, MessageKind::cgroup_joined, Step::cgroup_namespace);
    if (plan.new_user) {
        wait_for(c, MessageKind::mappings_written, Step::wait_mappings);
        become_root(c);
    }
    join_namespaces(c);
    // Now that it is in its cgroup: the namespace's root is that cgroup.
    if (plan.unshare_cgroupns && ::unshare(CLONE_NEWCGROUP) < 0) child_fail(c, Step::cgroup_namespace, errno);
    enter_time_namespace(c);
    ::umask(0);  // device nodes and mount points get exactly the planned modes
    mount_rootfs(c);
    create_devices(c);
    set_names(c);
    bring_up_loopback(c);
    if (plan.hooks.any_at_create()) {  // hooks.hpp: before pivot_root
        if (send_message(c.sock, MessageKind::run_hooks) < 0) ::_exit(125);
        wait_for(c, MessageKind::hooks_done, Step::wait_hooks);
    }
    pivot_into_rootfs(c);
    write_sysctls(c);
    protect_paths(c);
    apply_root_propagation(c);
    setup_terminal(c);  // the container's /dev/pts is in place

    // The root filesystem is ready. `create` stops here; `start` goes on.
    if (send_message(c.sock, MessageKind::child_ready) < 0) ::_exit(125);
    wait_for(c, MessageKind::start_container, Step::wait_start);

    setup_process(c);
    if (plan.exec_fifo_fd >= 0) wait_exec_fifo(c);
    exec_process(c);
}

}  // namespace bock::runtime
