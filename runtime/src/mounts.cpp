// The child's mount steps (see child.hpp for the rules of child code).
// Every mount destination is resolved inside the root filesystem with
// openat2(RESOLVE_IN_ROOT) and mounted on "/proc/self/fd/N", so a symlink in
// an image cannot send a mount to a path of the host.
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>

#include "bock/common/sys.hpp"
#include "child.hpp"

namespace bock::runtime {

namespace raw = bock::sys::raw;

namespace {

// The per-mount flags the kernel may have locked (a mount inherited from a
// more privileged user namespace): a remount must repeat them or get EPERM.
unsigned long locked_flags(int fd) {
    struct statfs sf;
    if (::fstatfs(fd, &sf) < 0) return 0;
    unsigned long f = 0;
    if (sf.f_flags & ST_NOSUID) f |= MS_NOSUID;
    if (sf.f_flags & ST_NODEV) f |= MS_NODEV;
    if (sf.f_flags & ST_NOEXEC) f |= MS_NOEXEC;
    return f;
}

// Remounts the mount at `fd` with MS_BIND|MS_REMOUNT|flags (keeping the
// locked flags).
int remount_bind(int fd, unsigned long flags) {
    char target[32];
    raw::fd_path(target, fd);
    return raw::mount(nullptr, target, nullptr, MS_BIND | MS_REMOUNT | flags | locked_flags(fd), nullptr);
}

// Opens the mount just made on `rel` (the fd opened before the mount sees
// the directory underneath, not the new mount).
int reopen(Child& c, int index, const char* rel) {
    int fd = open_in_root(c.rootfd, rel, O_PATH);
    if (fd < 0) child_fail(c, Step::create_destination, -fd, index);
    return fd;
}

void mount_one(Child& c, int index) {
    const MountPlan& m = c.plan.mounts[static_cast<size_t>(index)];
    const char* rel = m.rel_dest.c_str();
    bool dest_is_file = m.dest_is_file;
    if (m.stat_in_child) {  // a source of the joined mount namespace
        struct stat st;
        if (::stat(m.source.c_str(), &st) < 0) child_fail(c, Step::bind_source, errno, index);
        dest_is_file = !S_ISDIR(st.st_mode);
    }
    int r = make_path(c.rootfd, rel, dest_is_file);
    if (r < 0) child_fail(c, Step::create_destination, -r, index);
    int fd = open_in_root(c.rootfd, rel, O_PATH);
    if (fd < 0) child_fail(c, Step::create_destination, -fd, index);
    char target[32];
    raw::fd_path(target, fd);

    if (m.bind) {
        r = m.idmap ? (m.idmap_by_parent ? idmap_from_parent(c, index) : idmap_bind(m, target))
                    : raw::mount(m.source.c_str(), target, nullptr, MS_BIND | (m.recursive ? MS_REC : 0), nullptr);
        if (r < 0) child_fail(c, m.idmap ? Step::idmap_mount : Step::mount, -r, index);
        if (m.flags) {
            int top = reopen(c, index, rel);
            r = remount_bind(top, m.flags);
            if (r < 0) child_fail(c, Step::remount_readonly, -r, index);
            ::close(top);
        }
    } else {
        const char* data = m.data.empty() ? nullptr : m.data.c_str();
        r = raw::mount(m.source.c_str(), target, m.fstype.c_str(), m.flags, data);
        if (r == -EINVAL && !m.data_nogid.empty()) {
            // devpts with gid=5 where gid 5 is not mapped: mount without it.
            const char* nogid = m.data_nogid == "," ? nullptr : m.data_nogid.c_str();
            r = raw::mount(m.source.c_str(), target, m.fstype.c_str(), m.flags, nogid);
        }
        if (r < 0 && m.kind == MountPlan::Kind::sysfs && (r == -EPERM || r == -EACCES)) {
            // Rootless without a network namespace of our own: bind the host's.
            child_warn(c, Step::sysfs_fallback, -r, index);
            r = raw::mount("/sys", target, nullptr, MS_BIND | MS_REC, nullptr);
            if (r < 0) child_fail(c, Step::sysfs_fallback, -r, index);
            int top = reopen(c, index, rel);
            r = remount_bind(top, m.flags | MS_RDONLY);
            if (r < 0) child_warn(c, Step::remount_readonly, -r, index);
            ::close(top);
        } else if (r < 0 && m.kind == MountPlan::Kind::cgroup) {
            child_warn(c, Step::cgroup_mount, -r, index);
            ::close(fd);
            return;
        } else if (r < 0) {
            child_fail(c, Step::mount, -r, index);
        }
    }
    if (m.propagation) {
        int top = reopen(c, index, rel);
        raw::fd_path(target, top);
        r = raw::mount(nullptr, target, nullptr, m.propagation, nullptr);
        if (r < 0) child_fail(c, Step::mount_propagation, -r, index);
        ::close(top);
    }
    ::close(fd);
}

}  // namespace

int open_in_root(int rootfd, const char* path, int flags) {
    return raw::openat2(rootfd, path, flags | O_CLOEXEC, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

int make_path(int rootfd, const char* rel, bool last_is_file) {
    char buf[PATH_MAX];
    size_t n = 0;
    for (; rel[n]; ++n) {
        if (n + 1 >= sizeof buf) return -ENAMETOOLONG;
        buf[n] = rel[n];
    }
    buf[n] = '\0';
    size_t start = 0;  // start of the current component
    while (start < n) {
        size_t end = start;
        while (end < n && buf[end] != '/') ++end;
        bool last = end == n;
        char saved = buf[end];
        buf[end] = '\0';
        int fd = open_in_root(rootfd, buf, O_PATH);
        if (fd >= 0) {
            ::close(fd);
        } else if (fd != -ENOENT) {
            return fd;
        } else {
            // Create the component in its parent, itself resolved in the root.
            int parent = rootfd;
            bool own_parent = false;
            if (start > 0) {
                buf[start - 1] = '\0';
                parent = open_in_root(rootfd, buf, O_PATH | O_DIRECTORY);
                buf[start - 1] = '/';
                if (parent < 0) return parent;
                own_parent = true;
            }
            const char* name = buf + start;
            int r = 0;
            if (last && last_is_file) {
                int f = ::openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (f < 0 && errno != EEXIST) r = -errno;
                if (f >= 0) ::close(f);
            } else if (::mkdirat(parent, name, 0755) < 0 && errno != EEXIST) {
                r = -errno;
            }
            if (own_parent) ::close(parent);
            if (r < 0) return r;
        }
        buf[end] = saved;
        start = end + 1;
    }
    return 0;
}

void mount_rootfs(Child& c) {
    const Plan& p = c.plan;
    if (p.join_mount) {
        // A joined namespace is used as it is (crun): no propagation change,
        // chroot later. A symlink as the root is refused (O_NOFOLLOW: ELOOP),
        // as for a root filesystem of ours. The rootfs is bound onto itself
        // only for root.readonly (the read-only remount needs a mount of its
        // own at the root).
        int fd = ::open(p.rootfs.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) child_fail(c, Step::open_rootfs, errno, -1, p.rootfs.c_str());
        if (p.root_readonly) {
            // By path: the joined namespace's /proc may show another pid
            // namespace, where /proc/self/fd/N does not resolve.
            int r = raw::mount(p.rootfs.c_str(), p.rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr);
            if (r < 0) child_fail(c, Step::bind_rootfs, -r, -1, p.rootfs.c_str());
            ::close(fd);
            fd = ::open(p.rootfs.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);  // the bind now
            if (fd < 0) child_fail(c, Step::open_rootfs, errno, -1, p.rootfs.c_str());
        }
        c.rootfd = fd;
        for (size_t i = 0; i < p.mounts.size(); ++i) mount_one(c, static_cast<int>(i));
        return;
    }
    // Our mounts must not propagate back to the host (rslave by default).
    int r = raw::mount(nullptr, "/", nullptr, p.rootfs_propagation, nullptr);
    if (r < 0) child_fail(c, Step::propagation, -r);
    // pivot_root needs the new root to be a mount point.
    r = raw::mount(p.rootfs.c_str(), p.rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr);
    if (r < 0) child_fail(c, Step::bind_rootfs, -r, -1, p.rootfs.c_str());
    c.rootfd = ::open(p.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (c.rootfd < 0) child_fail(c, Step::open_rootfs, errno, -1, p.rootfs.c_str());
    for (size_t i = 0; i < p.mounts.size(); ++i) mount_one(c, static_cast<int>(i));
}

void pivot_into_rootfs(Child& c) {
    if (c.plan.join_mount) {
        // pivot_root would move the root of every process of the joined
        // namespace: chroot, as crun does there.
        if (::fchdir(c.rootfd) < 0 || ::chroot(".") < 0 || ::chdir("/") < 0)
            child_fail(c, Step::chroot_rootfs, errno, -1, c.plan.rootfs.c_str());
        return;
    }
    if (::fchdir(c.rootfd) < 0) child_fail(c, Step::pivot_root, errno);
    // runc's trick: the old root is stacked on "." and detached right away,
    // so no directory for it is needed in the image.
    int r = raw::pivot_root(".", ".");
    if (r < 0) child_fail(c, Step::pivot_root, -r);
    r = raw::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr);
    if (r < 0) child_fail(c, Step::pivot_root, -r);
    r = raw::umount2(".", MNT_DETACH);
    if (r < 0) child_fail(c, Step::pivot_root, -r);
    if (::chdir("/") < 0) child_fail(c, Step::pivot_root, errno);
}

void apply_root_propagation(Child& c) {
    const Plan& p = c.plan;
    if (!p.root_propagation_after || p.join_mount) return;
    int r = raw::mount(nullptr, "/", nullptr, p.root_propagation_after, nullptr);
    if (r < 0) child_fail(c, Step::root_propagation, -r);
}

void protect_paths(Child& c) {
    const Plan& p = c.plan;
    char target[32];
    for (size_t i = 0; i < p.masked_paths.size(); ++i) {
        int idx = static_cast<int>(i);
        int fd = open_in_root(c.rootfd, p.masked_paths[i].c_str(), O_PATH);
        if (fd == -ENOENT || fd == -ENOTDIR) continue;  // nothing to hide
        if (fd < 0) child_fail(c, Step::masked_path, -fd, idx);
        struct stat st;
        if (::fstat(fd, &st) < 0) child_fail(c, Step::masked_path, errno, idx);
        raw::fd_path(target, fd);
        int r = S_ISDIR(st.st_mode) ? raw::mount("tmpfs", target, "tmpfs", MS_RDONLY, nullptr)
                                    : raw::mount("/dev/null", target, nullptr, MS_BIND, nullptr);
        if (r < 0) child_fail(c, Step::masked_path, -r, idx);
        ::close(fd);
    }
    for (size_t i = 0; i < p.readonly_paths.size(); ++i) {
        int idx = static_cast<int>(i);
        const char* path = p.readonly_paths[i].c_str();
        int fd = open_in_root(c.rootfd, path, O_PATH);
        if (fd == -ENOENT || fd == -ENOTDIR) continue;
        if (fd < 0) child_fail(c, Step::readonly_path, -fd, idx);
        raw::fd_path(target, fd);
        int r = raw::mount(target, target, nullptr, MS_BIND | MS_REC, nullptr);
        if (r < 0) child_fail(c, Step::readonly_path, -r, idx);
        ::close(fd);
        fd = open_in_root(c.rootfd, path, O_PATH);
        if (fd < 0) child_fail(c, Step::readonly_path, -fd, idx);
        r = remount_bind(fd, MS_RDONLY);
        if (r < 0) child_fail(c, Step::readonly_path, -r, idx);
        ::close(fd);
    }
    if (p.root_readonly) {
        int r = raw::mount(nullptr, "/", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(c.rootfd),
                           nullptr);
        if (r < 0) child_fail(c, Step::root_readonly, -r);
    }
}

}  // namespace bock::runtime
