// The child's /dev: the standard device nodes plus linux.devices, made with
// mknod as root, or (rootless, or when mknod is refused) as empty files with
// the host's node bind-mounted on top; then the usual /dev symlinks.
#include <sys/mount.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>

#include "bock/common/sys.hpp"
#include "child.hpp"

namespace bock::runtime {

namespace raw = bock::sys::raw;

namespace {

// Splits rel ("dev/net/tun") into an open parent directory (created if
// missing) and the last name, copied into `name`. Returns the parent fd.
int open_parent(Child& c, const char* rel, char* name, size_t name_size, int index) {
    char dir[PATH_MAX];
    size_t n = 0, slash = 0;
    bool has_slash = false;
    for (; rel[n]; ++n) {
        if (n + 1 >= sizeof dir) child_fail(c, Step::device, ENAMETOOLONG, index);
        dir[n] = rel[n];
        if (rel[n] == '/') {
            slash = n;
            has_slash = true;
        }
    }
    dir[n] = '\0';
    const char* base = has_slash ? rel + slash + 1 : rel;
    size_t i = 0;
    for (; base[i] && i + 1 < name_size; ++i) name[i] = base[i];
    name[i] = '\0';
    if (!has_slash) {
        int fd = open_in_root(c.rootfd, ".", O_PATH | O_DIRECTORY);
        if (fd < 0) child_fail(c, Step::device, -fd, index);
        return fd;
    }
    dir[slash] = '\0';
    int r = make_path(c.rootfd, dir, false);
    if (r < 0) child_fail(c, Step::device, -r, index);
    int fd = open_in_root(c.rootfd, dir, O_PATH | O_DIRECTORY);
    if (fd < 0) child_fail(c, Step::device, -fd, index);
    return fd;
}

// mknod; returns 0, or -EPERM when the kernel refuses device nodes to us.
int make_node(Child& c, const DevicePlan& d, int parent, const char* name, int index) {
    if (::mknodat(parent, name, d.mode, d.dev) < 0) {
        if (errno == EEXIST) {
            // The image brought its own node: replace it with the planned one.
            if (::unlinkat(parent, name, 0) < 0) child_fail(c, Step::device, errno, index);
            if (::mknodat(parent, name, d.mode, d.dev) == 0) goto made;
        }
        if (errno == EPERM) return -EPERM;
        child_fail(c, Step::device, errno, index);
    }
made:
    if (::fchownat(parent, name, d.uid, d.gid, AT_SYMLINK_NOFOLLOW) < 0)
        child_fail(c, Step::device, errno, index);
    return 0;
}

void bind_node(Child& c, const DevicePlan& d, int parent, const char* name, int index) {
    int f = ::openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (f < 0) {
        f = ::openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (f < 0) child_fail(c, Step::device_bind, errno, index);
    }
    ::close(f);
    int target_fd = open_in_root(c.rootfd, d.rel_path.c_str(), O_PATH);
    if (target_fd < 0) child_fail(c, Step::device_bind, -target_fd, index);
    char target[32];
    raw::fd_path(target, target_fd);
    int r = raw::mount(d.path.c_str(), target, nullptr, MS_BIND, nullptr);
    if (r < 0) child_fail(c, Step::device_bind, -r, index);
    ::close(target_fd);
}

}  // namespace

void create_devices(Child& c) {
    const Plan& p = c.plan;
    if (!p.make_devices) return;
    char name[NAME_MAX + 1];
    for (size_t i = 0; i < p.devices.size(); ++i) {
        const DevicePlan& d = p.devices[i];
        int idx = static_cast<int>(i);
        int parent = open_parent(c, d.rel_path.c_str(), name, sizeof name, idx);
        struct stat st;
        if (d.if_missing && ::fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
            ::close(parent);
            continue;
        }
        bool bind = p.bind_devices && !S_ISFIFO(d.mode);
        if (!bind && make_node(c, d, parent, name, idx) == -EPERM) bind = true;
        if (bind) bind_node(c, d, parent, name, idx);
        ::close(parent);
    }
    struct {
        const char* target;
        const char* name;
    } links[] = {{"/proc/self/fd", "fd"},     {"/proc/self/fd/0", "stdin"},
                 {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
                 {"pts/ptmx", "ptmx"},        {"/proc/kcore", "core"}};
    int dev = open_in_root(c.rootfd, "dev", O_PATH | O_DIRECTORY);
    if (dev < 0) child_fail(c, Step::dev_symlink, -dev, -1, "/dev");
    for (const auto& l : links) {
        if (::symlinkat(l.target, dev, l.name) < 0 && errno != EEXIST)
            child_fail(c, Step::dev_symlink, errno, -1, l.name);
    }
    ::close(dev);
}

}  // namespace bock::runtime
