// The child's last steps, after the parent said "start": limits, umask,
// user and groups, working directory, capabilities, no_new_privs, fds, and
// the exec with a lookup in the container's own PATH.
//
// Order (as runc): keep capabilities across setuid, drop the bounding set
// while we still hold CAP_SETPCAP, switch user, then set the final
// effective/permitted/inheritable sets and raise the ambient ones.
//
// The seccomp filter (built by the parent) is loaded as runc and crun do:
// with no_new_privs it is the very last step before execve, so the profile
// need not allow the runtime's own setup syscalls, only execve. Without
// no_new_privs the kernel lets only a holder of CAP_SYS_ADMIN (in its user
// namespace) install a filter, so it goes in first, while the process is
// still root with every capability. What follows must then be what any
// profile allows, so everything needing a newer call is done before the
// load: the working directory is opened (openat2), /proc/self/setgroups
// read, fds marked close-on-exec (close_range); after it come only
// prctl, fchdir, setgroups, setres[ug]id, capget/capset, close, fcntl and
// execve (as crun; a profile older than openat2 and close_range runs).
// Bock never sets no_new_privs on its own to make the load work.
// With a seccomp listener (SCMP_ACT_NOTIFY) and no_new_privs the load is
// the last step of setup_process instead, before the exec-fifo wait
// (seccomp_notify.cpp says why and what the profile must then allow).
#include <linux/capability.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>

#include "child.hpp"
#include "seccomp.hpp"
#include "seccomp_notify.hpp"

namespace bock::runtime {

namespace {

// setgroups(2) is not allowed when /proc/self/setgroups says "deny" (a
// user namespace whose gid map was written without privilege).
bool setgroups_allowed() {
    int fd = ::open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return true;  // no user namespace support: allowed
    char buf[16] = {};
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    return !(n >= 4 && buf[0] == 'd' && buf[1] == 'e' && buf[2] == 'n' && buf[3] == 'y');
}

void set_user(Child& c, bool may_setgroups) {
    const Plan& p = c.plan;
    if (may_setgroups) {
        const gid_t* groups = p.groups.empty() ? nullptr : p.groups.data();
        // /proc/self/setgroups may be unreadable (the /proc of a joined
        // mount namespace shows another pid namespace): with no groups
        // asked, a refusal to clear them is the kernel's "deny".
        if (::syscall(SYS_setgroups, p.groups.size(), groups) < 0 && !(errno == EPERM && p.groups.empty()))
            child_fail(c, Step::setgroups, errno);
    }
    // Plain syscalls: glibc's wrappers would try to signal the parent's
    // other threads, which do not exist here.
    if (::syscall(SYS_setresgid, p.gid, p.gid, p.gid) < 0) child_fail(c, Step::setgid, errno);
    if (::syscall(SYS_setresuid, p.uid, p.uid, p.uid) < 0) child_fail(c, Step::setuid, errno);
    // A change of credentials clears the parent-death signal: set it again
    // (a parent already gone shows as another parent; nothing then).
    if (p.parent_death_signal) (void)::prctl(PR_SET_PDEATHSIG, p.parent_death_signal, 0, 0, 0);
}

void set_capabilities(Child& c) {
    const Plan& p = c.plan;
    if (!p.set_caps) return;
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct cur[2] = {};
    if (::syscall(SYS_capget, &hdr, cur) < 0) child_fail(c, Step::capset, errno);
    uint64_t have = cur[0].permitted | (uint64_t{cur[1].permitted} << 32);
    uint64_t permitted = p.cap_permitted & have;
    uint64_t missing = (p.cap_permitted | p.cap_effective) & ~have;
    for (int b = 0; b < 64; ++b)
        if (missing & (uint64_t{1} << b)) child_warn(c, Step::cap_unavailable, 0, b);
    uint64_t effective = p.cap_effective & permitted;
    uint64_t inheritable = p.cap_inheritable & (permitted | cur[0].inheritable | (uint64_t{cur[1].inheritable} << 32));
    struct __user_cap_data_struct data[2] = {};
    data[0].effective = static_cast<uint32_t>(effective);
    data[1].effective = static_cast<uint32_t>(effective >> 32);
    data[0].permitted = static_cast<uint32_t>(permitted);
    data[1].permitted = static_cast<uint32_t>(permitted >> 32);
    data[0].inheritable = static_cast<uint32_t>(inheritable);
    data[1].inheritable = static_cast<uint32_t>(inheritable >> 32);
    hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    if (::syscall(SYS_capset, &hdr, data) < 0) child_fail(c, Step::capset, errno);
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        child_fail(c, Step::cap_ambient, errno);
    for (int b = 0; b <= p.cap_last && b < 64; ++b) {
        uint64_t bit = uint64_t{1} << b;
        if (!(p.cap_ambient & bit)) continue;
        if (!(permitted & inheritable & bit)) {
            child_warn(c, Step::cap_unavailable, 0, b);
            continue;
        }
        if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, b, 0, 0) < 0) child_fail(c, Step::cap_ambient, errno, b);
    }
}

void drop_bounding(Child& c) {
    const Plan& p = c.plan;
    if (!p.set_caps) return;
    for (int b = 0; b <= p.cap_last && b < 64; ++b) {
        if (p.cap_bounding & (uint64_t{1} << b)) continue;
        if (::prctl(PR_CAPBSET_READ, b, 0, 0, 0) != 1) continue;
        if (::prctl(PR_CAPBSET_DROP, b, 0, 0, 0) < 0) child_fail(c, Step::cap_bounding, errno, b);
    }
}

void apply_seccomp(Child& c) {
    if (c.plan.seccomp.filter.empty()) return;
    int r = load_seccomp(c.plan.seccomp);
    if (r < 0) child_fail(c, Step::seccomp, -r);
    if (r > 0) hand_over_listener(c, r);  // the notify fd (seccomp_notify.cpp)
}

bool has_listener(const Plan& p) { return !p.seccomp.listener.path.empty(); }

// No descriptor of the caller may reach the container: everything above
// stdio becomes close-on-exec (the message socket already is), except the
// --preserve-fds ones, which stay open whatever their flag was. Before the
// seccomp load; close_range (5.9) falls back to a loop on any refusal.
void mark_fds_cloexec(Child& c) {
    const Plan& p = c.plan;
    unsigned first = 3U + static_cast<unsigned>(p.preserve_fds);
    for (unsigned fd = 3; fd < first; ++fd) (void)::fcntl(static_cast<int>(fd), F_SETFD, 0);
    if (::syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
    if (errno != ENOSYS && errno != EINVAL && errno != EPERM) child_fail(c, Step::close_fds, errno);
    struct rlimit rl = {};
    rlim_t limit = ::getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_max : 65536;
    if (limit == RLIM_INFINITY || limit > (1U << 20)) limit = 1U << 20;
    for (rlim_t fd = first; fd < limit; ++fd) (void)::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
}

}  // namespace

void setup_process(Child& c) {
    const Plan& p = c.plan;
    apply_process_attrs(c);  // process_attrs.cpp: while still privileged
    for (size_t i = 0; i < p.rlimits.size(); ++i) {
        const RlimitPlan& r = p.rlimits[i];
        struct rlimit rl = {r.soft, r.hard};
        if (::setrlimit(r.resource, &rl) < 0)
            child_fail(c, Step::rlimit, errno, static_cast<int>(i));
    }
    ::umask(p.set_umask ? p.umask : 022);
    // Everything that needs a newer system call (openat2, close_range) or
    // a file of /proc happens before a filter loaded without no_new_privs
    // can refuse it; after that load only long-standing calls follow.
    //
    // The working directory is resolved inside the root filesystem without
    // magic links: a symlink pointing out, or /proc/self/fd/N naming an
    // inherited host directory, cannot become the cwd (CVE-2024-21626).
    // Without a rootfd (a process joining a running container) the root is
    // the process's own "/".
    int own_root = c.rootfd >= 0 ? -1 : ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    int cwd_fd = open_in_root(c.rootfd >= 0 ? c.rootfd : own_root, p.cwd.c_str(), O_PATH | O_DIRECTORY);
    if (own_root >= 0) ::close(own_root);
    if (cwd_fd < 0) child_fail(c, Step::chdir, -cwd_fd);
    const bool may_setgroups = setgroups_allowed();
    mark_fds_cloexec(c);
    if (!p.no_new_privs) apply_seccomp(c);  // needs CAP_SYS_ADMIN: before the user switch
    if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) child_fail(c, Step::keep_caps, errno);
    drop_bounding(c);
    // Change directory as root first (the user may not search the path
    // leading there), again after switching if that failed.
    bool in_cwd = ::fchdir(cwd_fd) == 0;
    set_user(c, may_setgroups);
    if (!in_cwd && ::fchdir(cwd_fd) < 0) child_fail(c, Step::chdir, errno);
    ::close(cwd_fd);
    if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) child_fail(c, Step::keep_caps, errno);
    set_capabilities(c);
    if (p.no_new_privs && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) child_fail(c, Step::no_new_privs, errno);
    // With a listener the fd must reach the agent before `create` returns:
    // the load moves here, before the exec-fifo wait (seccomp_notify.cpp).
    if (p.no_new_privs && has_listener(p)) apply_seccomp(c);
}

void exec_process(Child& c) {
    const Plan& p = c.plan;
    // Last, after the exec-fifo handshake of a created container (as runc):
    // only execve follows.
    if (p.no_new_privs && !has_listener(p)) apply_seccomp(c);
    const char* cmd = p.argv[0];
    char* const* argv = p.argv.data();
    char* const* envp = p.envp.data();
    int err = ENOENT;
    bool has_slash = false;
    for (const char* s = cmd; *s; ++s) has_slash = has_slash || *s == '/';
    if (has_slash) {
        ::execve(cmd, argv, envp);
        err = errno;
    } else {
        bool saw_eacces = false;
        char buf[PATH_MAX];
        for (const auto& dir : p.path_dirs) {
            size_t n = 0;
            bool fits = true;
            for (const char* s = dir.c_str(); *s && fits; ++s) {
                if (n + 2 >= sizeof buf) fits = false;
                else buf[n++] = *s;
            }
            if (n && buf[n - 1] != '/') buf[n++] = '/';
            for (const char* s = cmd; *s && fits; ++s) {
                if (n + 1 >= sizeof buf) fits = false;
                else buf[n++] = *s;
            }
            if (!fits) continue;
            buf[n] = '\0';
            ::execve(buf, argv, envp);
            int e = errno;
            if (e == EACCES) saw_eacces = true;
            else if (e != ENOENT && e != ENOTDIR && e != ELOOP && e != ENAMETOOLONG) {
                err = e;  // found but not runnable (ENOEXEC, ETXTBSY, ...): stop here
                saw_eacces = false;
                break;
            }
        }
        if (saw_eacces) err = EACCES;
    }
    (void)send_message(c.sock, MessageKind::exec_failed, Step::exec, err);
    ::_exit(err == ENOENT ? 127 : 126);
}

}  // namespace bock::runtime
