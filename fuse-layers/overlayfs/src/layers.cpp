// The layer directories and the markers kernel overlayfs keeps in them, in
// the forms the kernel reads, so an upper written here mounts under kernel
// overlayfs too:
//  - whiteout: a 0/0 character device (or, where mknod is refused, an empty
//    file with user.overlay.whiteout in a directory marked
//    user.overlay.opaque="x", the form Linux 6.7+ reads);
//  - opaque directory: trusted.overlay.opaque="y" (root in the initial user
//    namespace) or user.overlay.opaque="y" (inside a user namespace, read by
//    kernel overlayfs mounted with userxattr). Both are read.
//  - owners recorded as user.containers.override_stat "UID:GID:MODE[:TYPE]"
//    (docs/storage.md), read on a layer whose root carries it.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "state.hpp"

namespace bock::fuseov {

namespace {

constexpr const char* kOverride = "user.containers.override_stat";

// With `want` null: whether the attribute exists, whatever its length.
bool xattr_is(const std::string& path, const char* name, const char* want) {
    if (want == nullptr) return ::lgetxattr(path.c_str(), name, nullptr, 0) >= 0;
    char buf[8];
    ssize_t n = ::lgetxattr(path.c_str(), name, buf, sizeof buf);
    if (n < 0) return false;
    return want == nullptr || (static_cast<size_t>(n) == std::strlen(want) && std::memcmp(buf, want, n) == 0);
}

bool in_initial_userns() {
    std::ifstream f("/proc/self/uid_map");
    unsigned long inner = 0, outer = 0, count = 0;
    f >> inner >> outer >> count;
    return f && inner == 0 && outer == 0 && count == 4294967295ul;
}

}  // namespace

Result<void> Fs::open_layers() {
    in_userns_root = !in_initial_userns();
    layers.resize(opt.lowers.size() + 1);
    writable = !opt.upper.empty();
    if (writable) {
        int fd = ::open(opt.upper.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) return errno_error("open upperdir `{}`", opt.upper);
        layers[0].fd.reset(fd);
        layers[0].path = opt.upper;
        fd = ::open(opt.work.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) return errno_error("open workdir `{}`", opt.work);
        work.reset(fd);
        struct stat a, b;
        if (::fstat(layers[0].fd.get(), &a) == 0 && ::fstat(work.get(), &b) == 0 && a.st_dev != b.st_dev)
            return make_error("workdir `{}` is not on the filesystem of upperdir `{}`", opt.work, opt.upper)
                .with_hint("copy-up renames files from the work directory into the upper one");
    }
    for (size_t i = 0; i < opt.lowers.size(); ++i) {
        auto& l = layers[i + 1];
        l.path = opt.lowers[i];
        int fd = ::open(l.path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) return errno_error("open lowerdir `{}`", l.path);
        l.fd.reset(fd);
        root.lowers.push_back(static_cast<int>(i + 1));
    }
    for (auto& l : layers)
        // getxattr follows the /proc/self/fd link to the layer's root (lgetxattr would read the link's own).
        if (l.fd) l.override_stat = ::getxattr(proc_path(&l - layers.data(), ".").c_str(), kOverride, nullptr, 0) >= 0;
    links.resize(layers.size());
    links_scanned.assign(layers.size(), false);
    return ok();
}

std::string Fs::proc_path(int layer, const std::string& rel) const {
    std::string p = "/proc/self/fd/" + std::to_string(layers[layer].fd.get());
    if (rel != ".") p += "/" + rel;
    return p;
}

std::string Fs::tmp_name() { return "bock-" + std::to_string(::getpid()) + "-" + std::to_string(++tmp_counter_); }

bool Fs::is_whiteout(int layer, const std::string& rel, const struct stat& st) {
    if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) return true;
    if (S_ISREG(st.st_mode) && st.st_size == 0) {
        std::string p = proc_path(layer, rel);
        return xattr_is(p, "user.overlay.whiteout", nullptr) || xattr_is(p, "trusted.overlay.whiteout", nullptr);
    }
    return false;
}

bool Fs::is_opaque(int layer, const std::string& rel) {
    std::string p = proc_path(layer, rel);
    return xattr_is(p, "user.overlay.opaque", "y") || xattr_is(p, "trusted.overlay.opaque", "y");
}

Result<void> Fs::set_opaque(const std::string& rel) {
    std::string p = proc_path(kUpper, rel);
    const char* name = in_userns_root ? "user.overlay.opaque" : "trusted.overlay.opaque";
    if (::lsetxattr(p.c_str(), name, "y", 1, 0) == 0) return ok();
    if (!in_userns_root && ::lsetxattr(p.c_str(), "user.overlay.opaque", "y", 1, 0) == 0) return ok();
    return errno_error("mark `{}` opaque", rel);
}

Result<void> Fs::make_whiteout(const std::string& rel) {
    int up = layers[0].fd.get();
    if (::mknodat(up, rel.c_str(), S_IFCHR | 0, makedev(0, 0)) == 0) return ok();
    if (errno != EPERM) return errno_error("whiteout `{}`", rel);
    // mknod refused (no user namespace of our own): the xattr form.
    int fd = ::openat(up, rel.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
    if (fd < 0) return errno_error("whiteout `{}`", rel);
    ::close(fd);
    std::string p = proc_path(kUpper, rel);
    auto slash = rel.rfind('/');
    std::string dir = proc_path(kUpper, slash == std::string::npos ? "." : rel.substr(0, slash));
    if (::lsetxattr(p.c_str(), "user.overlay.whiteout", "y", 1, 0) < 0 ||
        (!xattr_is(dir, "user.overlay.opaque", "y") && ::lsetxattr(dir.c_str(), "user.overlay.opaque", "x", 1, 0) < 0)) {
        auto e = errno_error("whiteout `{}` (xattr form)", rel);
        ::unlinkat(up, rel.c_str(), 0);
        return e;
    }
    return ok();
}

Result<void> Fs::remove_whiteout_if_any(const std::string& rel, bool* removed) {
    *removed = false;
    struct stat st;
    if (::fstatat(layers[0].fd.get(), rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return ok();
    if (!is_whiteout(kUpper, rel, st)) return ok();
    if (::unlinkat(layers[0].fd.get(), rel.c_str(), 0) < 0) return errno_error("remove whiteout `{}`", rel);
    *removed = true;
    return ok();
}

bool Fs::read_override(int layer, const std::string& rel, uid_t* uid, gid_t* gid, mode_t* mode) {
    char buf[64];
    ssize_t n = ::lgetxattr(proc_path(layer, rel).c_str(), kOverride, buf, sizeof buf - 1);
    if (n <= 0) return false;
    buf[n] = '\0';
    unsigned u = 0, g = 0, m = 0;
    if (std::sscanf(buf, "%u:%u:%o", &u, &g, &m) != 3) return false;
    *uid = u;
    *gid = g;
    *mode = m;
    return true;
}

int Fs::set_owner(const std::string& rel, uid_t inner_uid, gid_t inner_gid, bool is_link) {
    uint32_t uid = static_cast<uint32_t>(-1), gid = static_cast<uint32_t>(-1);
    if (inner_uid != static_cast<uid_t>(-1) && !opt.uids.to_outer(inner_uid, &uid)) return -EINVAL;
    if (inner_gid != static_cast<gid_t>(-1) && !opt.gids.to_outer(inner_gid, &gid)) return -EINVAL;
    int up = layers[0].fd.get();
    uid_t cu;
    gid_t cg;
    mode_t cm;
    bool has_override = !is_link && read_override(kUpper, rel, &cu, &cg, &cm);
    if (!has_override && ::fchownat(up, rel.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) == 0) return 0;
    if (is_link) return 0;  // symlinks cannot carry user.* xattrs: they keep the mount's owner
    if (!has_override && errno != EPERM && errno != EINVAL) return -errno;
    // The filesystem cannot hold this owner (a single-ID user namespace):
    // recorded the way containers/storage does.
    struct stat st;
    if (::fstatat(up, rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return -errno;
    if (!has_override) {
        cu = st.st_uid;
        cg = st.st_gid;
        cm = st.st_mode & 07777;
    }
    if (uid != static_cast<uint32_t>(-1)) cu = uid;
    if (gid != static_cast<uint32_t>(-1)) cg = gid;
    const char* type = S_ISDIR(st.st_mode) ? "dir" : S_ISFIFO(st.st_mode) ? "pipe" : "file";
    char buf[64];
    int len = std::snprintf(buf, sizeof buf, "%u:%u:%04o:%s", cu, cg, cm & 07777, type);
    if (::lsetxattr(proc_path(kUpper, rel).c_str(), kOverride, buf, len, 0) < 0) return -errno;
    if (!layers[0].override_stat) {
        ::lsetxattr(proc_path(kUpper, ".").c_str(), kOverride, buf, 0, XATTR_CREATE);
        layers[0].override_stat = true;
    }
    return 0;
}

int Fs::chmod_upper(const std::string& rel, mode_t mode) {
    int up = layers[0].fd.get();
    uid_t u;
    gid_t g;
    mode_t m;
    if (read_override(kUpper, rel, &u, &g, &m)) {
        struct stat st;
        if (::fstatat(up, rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return -errno;
        const char* type = S_ISDIR(st.st_mode) ? "dir" : S_ISFIFO(st.st_mode) ? "pipe" : "file";
        char buf[64];
        int len = std::snprintf(buf, sizeof buf, "%u:%u:%04o:%s", u, g, mode & 07777, type);
        if (::lsetxattr(proc_path(kUpper, rel).c_str(), "user.containers.override_stat", buf, len, 0) < 0)
            return -errno;
        // The real mode stays usable by the mount's owner.
        ::fchmodat(up, rel.c_str(), (mode & 0777) | (S_ISDIR(st.st_mode) ? 0700 : 0600), 0);
        return 0;
    }
    return ::fchmodat(up, rel.c_str(), mode & 07777, 0) < 0 ? -errno : 0;
}

}  // namespace bock::fuseov

namespace bock::fuseov {

int Fs::place(const std::string& tmp, const std::string& rel, bool is_dir, bool* replaced_whiteout) {
    int up = layers[0].fd.get(), wfd = work.get();
    struct stat st;
    *replaced_whiteout = false;
    if (::fstatat(up, rel.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (!is_whiteout(kUpper, rel, st)) return -EEXIST;
        *replaced_whiteout = true;
        if (is_dir || S_ISREG(st.st_mode)) {
            // A directory cannot replace a device by rename: swap, then drop the whiteout.
            if (::renameat2(wfd, tmp.c_str(), up, rel.c_str(), RENAME_EXCHANGE) < 0) return -errno;
            ::unlinkat(wfd, tmp.c_str(), 0);
            return 0;
        }
        return ::renameat(wfd, tmp.c_str(), up, rel.c_str()) < 0 ? -errno : 0;
    }
    return ::renameat2(wfd, tmp.c_str(), up, rel.c_str(), RENAME_NOREPLACE) < 0 ? -errno : 0;
}

}  // namespace bock::fuseov
