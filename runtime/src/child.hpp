// The container's first process, between clone and exec. Everything here
// runs in a child that may have been cloned from a multi-threaded parent:
// no allocation, no locks, no exceptions, no logging; only the plan (read
// only), stack buffers, bock::sys::raw and plain system calls. A failure is
// sent to the parent as a typed message and the child exits.
#pragma once

#include "messages.hpp"
#include "plan.hpp"

namespace bock::runtime {

struct Child {
    const Plan& plan;
    int sock = -1;    // the child's end of the message socketpair
    int rootfd = -1;  // O_PATH fd of the root filesystem (after it is bound)
};

// The whole sequence (child.cpp); never returns.
[[noreturn]] void child_main(const Plan& plan, int sock);

// Default handlers for every signal, an empty mask (child.cpp).
void reset_signals();

// Reports a failed step and exits with 125 (child.cpp).
[[noreturn]] void child_fail(const Child& c, Step step, int err, int index = -1,
                             const char* detail = nullptr);
// Reports a skipped step; the parent logs it at debug level.
void child_warn(const Child& c, Step step, int err, int index = -1, const char* detail = nullptr);

// mounts.cpp
// openat2(rootfd, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS); fd or -errno.
int open_in_root(int rootfd, const char* path, int flags);
// Creates the missing directories of `rel` below rootfd (and the last
// component as an empty file when `last_is_file`); 0 or -errno.
int make_path(int rootfd, const char* rel, bool last_is_file);
// Propagation of `/`, bind of the rootfs onto itself, c.rootfd, spec mounts.
void mount_rootfs(Child& c);
// pivot_root(".", ".") into c.rootfd, detach the old root, chdir("/");
// chroot in a joined mount namespace.
void pivot_into_rootfs(Child& c);
// idmap_mount.cpp: an id-mapped bind of m.source on target; 0 or -errno.
int idmap_bind(const MountPlan& m, const char* target);
// Root: asks the parent to make it (IdmapRequest/IdmapDone); 0 or -errno.
int idmap_from_parent(Child& c, int index);
// maskedPaths, readonlyPaths, root.readonly (after pivot_root).
void protect_paths(Child& c);
// linux.rootfsPropagation on the new `/`, after the binds of protect_paths
// (an unbindable root refuses them).
void apply_root_propagation(Child& c);

// devices.cpp: device nodes (mknod or host binds) and the /dev symlinks.
void create_devices(Child& c);

// net.cpp: loopback up in a new network namespace.
void bring_up_loopback(Child& c);

// process.cpp: limits, user, working directory, capabilities; then exec.
void setup_process(Child& c);
[[noreturn]] void exec_process(Child& c);

}  // namespace bock::runtime
