// The typed messages the runtime's parent and the container's first process
// exchange over their SOCK_SEQPACKET socketpair (one message per packet).
// Messages are fixed-size PODs so the child can build and send them without
// allocating; the parent turns failures into Errors (describe_failure).
#pragma once

#include <cstdint>
#include <string>

#include "bock/common/error.hpp"

namespace bock::runtime {

struct Plan;

enum class MessageKind : uint32_t {
    mappings_written = 1,  // parent -> child: uid/gid maps are in place
    child_ready,           // child -> parent: root filesystem set up, waiting
    start_container,       // parent -> child: go on and exec the process
    setup_failed,          // child -> parent: a setup step failed (then _exit)
    exec_failed,           // child -> parent: execve failed (then _exit 126/127)
    warning,               // child -> parent: a step was skipped, not fatal
    created,               // child -> parent: set up, about to block on the exec fifo
    cgroup_joined,         // parent -> child: the child's pid is in its cgroup
    exec_pid,              // exec's first child -> parent: `index` is the pid of the process (exec.cpp)
    run_hooks,             // child -> parent: mounts done, run createRuntime/prestart/createContainer
    hooks_done,            // parent -> child: they ran, go on to pivot_root
    idmap_request,         // child -> parent: make the id-mapped bind of mounts[index] (root)
    idmap_done,            // parent -> child: it is in place (err: errno if not)
    seccomp_fd,            // child -> parent: the seccomp notify fd (SCM_RIGHTS), seccomp_notify.cpp
    seccomp_done,          // parent -> child: the listener has the fd, go on
};

// The steps of the child, named in failure messages.
enum class Step : uint32_t {
    none = 0,
    wait_mappings,
    become_root,
    join_namespace,
    propagation,
    bind_rootfs,
    open_rootfs,
    create_destination,
    mount,
    mount_propagation,
    remount_readonly,
    sysfs_fallback,
    cgroup_mount,
    device,
    device_bind,
    dev_symlink,
    hostname,
    domainname,
    loopback,
    pivot_root,
    masked_path,
    readonly_path,
    root_readonly,
    sysctl,
    wait_start,
    rlimit,
    umask,
    keep_caps,
    setgroups,
    setgid,
    setuid,
    chdir,
    cap_bounding,
    capset,
    cap_ambient,
    cap_unavailable,
    no_new_privs,
    seccomp,
    close_fds,
    exec_fifo,
    exec,
    cgroup_namespace,  // wait for CgroupJoined, unshare(CLONE_NEWCGROUP)
    terminal,        // open the pty (terminal.cpp)
    console_send,    // send the pty master over --console-socket
    controlling_tty, // setsid, TIOCSCTTY, dup2 onto stdio
    exec_fork,       // exec: fork into the container's pid namespace
    process_attr,    // detail: the config field
    time_namespace,
    wait_hooks,
    idmap_mount,
    seccomp_listener,  // hand the seccomp notify fd to the parent, wait for SeccompDone
    chroot_rootfs,     // a joined mount namespace: chroot instead of pivot_root
    root_propagation,  // linux.rootfsPropagation on the new root, after pivot_root
    bind_source,       // a joined mount namespace: stat the bind source there
};

struct Message {
    MessageKind kind;
    int32_t err;     // errno, 0 if none
    Step step;
    int32_t index;   // index into the plan's list for the step (mount, device, ...), -1 if none
    char detail[256];  // a path or name, NUL-terminated, possibly truncated
};

// Allocation-free: safe in the child. Return 0 or -errno.
int send_message(int fd, MessageKind kind, Step step = Step::none, int err = 0, int index = -1,
                 const char* detail = nullptr);
// Returns 1 when a message was read, 0 at EOF, -errno on error (EINTR retried).
int recv_message(int fd, Message& out);
// The same with one fd attached (SCM_RIGHTS): sent with the message; on
// receipt stored in *passed (O_CLOEXEC, the caller closes it) or -1.
// Fds that come with a message read by recv_message are closed.
int send_message_fd(int fd, MessageKind kind, int passed);
int recv_message(int fd, Message& out, int* passed);

const char* step_name(Step s);

// run.cpp: an execve errno as the Error a caller shows (exit 127 for a
// command not found, 126 for one that cannot run), and a wait status in words.
Error exec_error(int err, const std::string& cmd);
std::string describe_status(int wait_status);

// Turns a setup_failed / warning message into an Error naming the step and
// the thing it was working on ("mount `proc` on `/proc`: operation not permitted").
Error describe_failure(const Message& m, const Plan& plan);

}  // namespace bock::runtime
