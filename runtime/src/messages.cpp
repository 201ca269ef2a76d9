// Sending and receiving the typed messages of messages.hpp, and turning a
// child's failure report into an Error that names the thing it worked on.
#include "messages.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bock/common/sys.hpp"
#include "plan.hpp"

namespace bock::runtime {

int send_message(int fd, MessageKind kind, Step step, int err, int index, const char* detail) {
    Message m;
    std::memset(&m, 0, sizeof m);
    m.kind = kind;
    m.err = err;
    m.step = step;
    m.index = index;
    if (detail) {
        size_t i = 0;
        for (; detail[i] && i + 1 < sizeof m.detail; ++i) m.detail[i] = detail[i];
        m.detail[i] = '\0';
    }
    for (;;) {
        ssize_t n = ::send(fd, &m, sizeof m, MSG_NOSIGNAL);
        if (n == static_cast<ssize_t>(sizeof m)) return 0;
        if (n < 0 && errno == EINTR) continue;
        return n < 0 ? -errno : -EPROTO;
    }
}

int recv_message(int fd, Message& out) { return recv_message(fd, out, nullptr); }

int send_message_fd(int fd, MessageKind kind, int passed) {
    Message m;
    std::memset(&m, 0, sizeof m);
    m.kind = kind;
    m.index = -1;
    ssize_t n = sys::raw::send_with_fd(fd, &m, sizeof m, passed);
    if (n == static_cast<ssize_t>(sizeof m)) return 0;
    return n < 0 ? static_cast<int>(n) : -EPROTO;
}

int recv_message(int fd, Message& out, int* passed) {
    ssize_t n = sys::raw::recv_with_fd(fd, &out, sizeof out, passed);
    if (n <= 0) return static_cast<int>(n);
    if (n != static_cast<ssize_t>(sizeof out)) return -EPROTO;
    out.detail[sizeof out.detail - 1] = '\0';
    return 1;
}

const char* step_name(Step s) {
    switch (s) {
        case Step::none: return "set up the container";
        case Step::wait_mappings: return "wait for the id mappings";
        case Step::become_root: return "become root in the user namespace";
        case Step::join_namespace: return "join namespace";
        case Step::propagation: return "set the mount propagation of `/`";
        case Step::bind_rootfs: return "bind the root filesystem";
        case Step::open_rootfs: return "open the root filesystem";
        case Step::create_destination: return "create the mount point";
        case Step::mount: return "mount";
        case Step::mount_propagation: return "set the propagation of mount";
        case Step::remount_readonly: return "remount read-only";
        case Step::sysfs_fallback: return "bind the host's /sys (sysfs could not be mounted)";
        case Step::cgroup_mount: return "mount the cgroup filesystem (skipped)";
        case Step::cgroup_namespace: return "create the cgroup namespace";
        case Step::device: return "create device";
        case Step::device_bind: return "bind device";
        case Step::dev_symlink: return "create the /dev symlink";
        case Step::hostname: return "set the hostname";
        case Step::domainname: return "set the domain name";
        case Step::loopback: return "bring up the loopback interface";
        case Step::pivot_root: return "pivot_root into the root filesystem";
        case Step::chroot_rootfs: return "chroot into the root filesystem";
        case Step::root_propagation: return "set linux.rootfsPropagation on the new root";
        case Step::bind_source: return "bind source";
        case Step::masked_path: return "mask path";
        case Step::readonly_path: return "make path read-only";
        case Step::root_readonly: return "remount the root filesystem read-only";
        case Step::sysctl: return "write sysctl";
        case Step::wait_start: return "wait for the start signal";
        case Step::rlimit: return "set limit";
        case Step::umask: return "set the umask";
        case Step::keep_caps: return "keep capabilities across setuid";
        case Step::setgroups: return "set the supplementary groups";
        case Step::setgid: return "set the group id";
        case Step::setuid: return "set the user id";
        case Step::chdir: return "change to the working directory";
        case Step::cap_bounding: return "drop from the capability bounding set";
        case Step::capset: return "set the capabilities";
        case Step::cap_ambient: return "raise the ambient capability";
        case Step::cap_unavailable: return "capability not available, left out";
        case Step::no_new_privs: return "set no_new_privs";
        case Step::seccomp: return "load the seccomp filter";
        case Step::close_fds: return "mark inherited file descriptors close-on-exec";
        case Step::exec_fifo: return "open the exec fifo (is /proc mounted in the container?)";
        case Step::exec: return "exec";
        case Step::terminal: return "open a pty in the container's /dev/pts";
        case Step::console_send: return "send the pty master over the console socket";
        case Step::controlling_tty: return "make the pty the controlling terminal";
        case Step::exec_fork: return "fork into the container's pid namespace";
        case Step::process_attr: return "apply";
        case Step::time_namespace: return "set up the time namespace";
        case Step::wait_hooks: return "wait for the createRuntime hooks";
        case Step::idmap_mount: return "id-map the bind mount";
        case Step::seccomp_listener: return "hand the seccomp notify fd to the runtime";
    }
    return "set up the container";
}

Error describe_failure(const Message& m, const Plan& plan) {
    const int i = m.index;
    auto in = [i](const auto& v) { return i >= 0 && static_cast<size_t>(i) < v.size(); };
    std::string what;
    switch (m.step) {
        case Step::mount:
            if (in(plan.mounts)) {
                const auto& mp = plan.mounts[i];
                what = fmt::format("mount `{}` on `{}`", mp.source, mp.destination);
            }
            break;
        case Step::bind_source:
            if (in(plan.mounts)) what = fmt::format("{} `{}`", step_name(m.step), plan.mounts[i].source);
            break;
        case Step::create_destination:
        case Step::idmap_mount:
        case Step::mount_propagation:
        case Step::remount_readonly:
        case Step::sysfs_fallback:
        case Step::cgroup_mount:
            if (in(plan.mounts)) what = fmt::format("{} `{}`", step_name(m.step), plan.mounts[i].destination);
            break;
        case Step::device:
        case Step::device_bind:
            if (in(plan.devices)) what = fmt::format("{} `{}`", step_name(m.step), plan.devices[i].path);
            break;
        case Step::join_namespace:
            if (in(plan.joins)) what = fmt::format("join namespace `{}`", plan.joins[i].path);
            break;
        case Step::masked_path:
            if (in(plan.masked_paths)) what = fmt::format("mask `{}`", plan.masked_paths[i]);
            break;
        case Step::readonly_path:
            if (in(plan.readonly_paths)) what = fmt::format("make `{}` read-only", plan.readonly_paths[i]);
            break;
        case Step::sysctl:
            if (in(plan.sysctls)) what = fmt::format("write sysctl `{}`", plan.sysctls[i].key);
            break;
        case Step::rlimit:
            if (in(plan.rlimits)) {
                const auto& r = plan.rlimits[i];
                what = fmt::format("set {} to {}:{}", r.name, r.soft, r.hard);
            }
            break;
        case Step::chdir:
            what = fmt::format("change to the working directory `{}`", plan.cwd);
            break;
        case Step::setuid:
            what = fmt::format("set the user id to {}", plan.uid);
            break;
        case Step::setgid:
            what = fmt::format("set the group id to {}", plan.gid);
            break;
        case Step::seccomp:
            if (m.err == EACCES)
                what = "load the seccomp filter (process.noNewPrivileges is false and the process lacks "
                       "CAP_SYS_ADMIN)";
            break;
        case Step::hostname:
            what = fmt::format("set the hostname to `{}`", plan.hostname);
            break;
        case Step::cap_bounding:
        case Step::cap_ambient:
        case Step::cap_unavailable:
            what = fmt::format("{} {}", step_name(m.step), i);
            break;
        default:
            break;
    }
    if (what.empty()) {
        what = step_name(m.step);
        if (m.detail[0]) what += fmt::format(" `{}`", m.detail);
    }
    return Error(m.err, what);
}

}  // namespace bock::runtime
