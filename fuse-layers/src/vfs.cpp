// The vfs backend: a plain copy of the layers, bottom to top, each layer's
// whiteouts (0/0 character devices) removing what lies below and its
// opaque directories (trusted./user.overlay.opaque = "y") emptying theirs.
// Owners, modes, times, xattrs and hard links (within a layer) are kept;
// ids are shifted when a mapping is given. Costs the full size of the
// image per container: only the last resort of the chain.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "backends.hpp"
#include "bock/common/fd.hpp"
#include "bock/common/fs.hpp"

namespace bock::layers {

namespace {

struct Copier {
    const VfsIdMap& ids;
    uint64_t bytes = 0;
    std::map<std::pair<dev_t, ino_t>, std::string> links;  // per layer

    static uint32_t shift(const std::vector<uint32_t>& m, uint32_t id) {
        if (m.empty()) return id;
        for (size_t i = 0; i + 2 < m.size(); i += 3)  // stored as m[i], copied as m[i+1] (fuse-overlayfs's meaning)
            if (id >= m[i] && id - m[i] < m[i + 2]) return m[i + 1] + (id - m[i]);
        return 65534;
    }

    static bool opaque(const std::string& p) {
        char v[2];
        return (::lgetxattr(p.c_str(), "user.overlay.opaque", v, 2) == 1 && v[0] == 'y') ||
               (::lgetxattr(p.c_str(), "trusted.overlay.opaque", v, 2) == 1 && v[0] == 'y');
    }

    static void copy_xattrs(const std::string& from, const std::string& to) {
        char names[8192];
        ssize_t n = ::llistxattr(from.c_str(), names, sizeof names);
        for (ssize_t off = 0; n > 0 && off < n; off += std::strlen(names + off) + 1) {
            const char* name = names + off;
            if (!std::strncmp(name, "trusted.overlay.", 16) || !std::strncmp(name, "user.overlay.", 13)) continue;
            char value[8192];
            ssize_t v = ::lgetxattr(from.c_str(), name, value, sizeof value);
            if (v >= 0) ::lsetxattr(to.c_str(), name, value, v, 0);
        }
    }

    Result<void> meta(const std::string& from, const std::string& to, const struct stat& st) {
        if (::lchown(to.c_str(), shift(ids.uid, st.st_uid), shift(ids.gid, st.st_gid)) < 0 && errno != EPERM &&
            errno != EINVAL)
            return errno_error("chown `{}`", to);
        copy_xattrs(from, to);
        if (!S_ISLNK(st.st_mode) && ::chmod(to.c_str(), st.st_mode & 07777) < 0) return errno_error("chmod `{}`", to);
        struct timespec t[2] = {st.st_atim, st.st_mtim};
        ::utimensat(AT_FDCWD, to.c_str(), t, AT_SYMLINK_NOFOLLOW);
        return ok();
    }

    Result<void> copy_file(const std::string& from, const std::string& to, const struct stat& st) {
        int in = ::open(from.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (in < 0) return errno_error("open `{}`", from);
        Fd in_fd(in);
        int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (out < 0) return errno_error("create `{}`", to);
        Fd out_fd(out);
        off_t left = st.st_size;
        while (left > 0) {
            ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, static_cast<size_t>(left), 0);
            if (n < 0) return errno_error("copy `{}`", from);
            if (n == 0) break;
            left -= n;
        }
        return ok();
    }

    Result<void> remove(const std::string& p) {
        struct stat st;
        if (::lstat(p.c_str(), &st) < 0) return ok();
        if (S_ISDIR(st.st_mode)) return fs::remove_all(p);
        if (::unlink(p.c_str()) < 0) return errno_error("remove `{}`", p);
        return ok();
    }

    Result<void> layer_dir(const std::string& src, const std::string& dst) {
        auto names = BOCK_TRY(fs::list_dir(src));
        for (const auto& name : names) {
            std::string from = src + "/" + name, to = dst + "/" + name;
            struct stat st;
            if (::lstat(from.c_str(), &st) < 0) return errno_error("stat `{}`", from);
            if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {  // whiteout
                BOCK_TRY(remove(to));
                continue;
            }
            struct stat have;
            bool exists = ::lstat(to.c_str(), &have) == 0;
            if (S_ISDIR(st.st_mode)) {
                if (exists && (!S_ISDIR(have.st_mode) || opaque(from))) {
                    BOCK_TRY(remove(to));
                    exists = false;
                }
                if (!exists && ::mkdir(to.c_str(), 0700) < 0) return errno_error("mkdir `{}`", to);
                BOCK_TRY(layer_dir(from, to));
                BOCK_TRY(meta(from, to, st));
                bytes += st.st_blocks * 512;
                continue;
            }
            if (exists) BOCK_TRY(remove(to));
            if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
                auto it = links.find({st.st_dev, st.st_ino});
                if (it != links.end()) {
                    if (::link(it->second.c_str(), to.c_str()) < 0) return errno_error("link `{}`", to);
                    continue;
                }
                links[{st.st_dev, st.st_ino}] = to;
            }
            if (S_ISREG(st.st_mode)) {
                BOCK_TRY(copy_file(from, to, st));
            } else if (S_ISLNK(st.st_mode)) {
                auto target = BOCK_TRY(fs::readlink(from));
                if (::symlink(target.c_str(), to.c_str()) < 0) return errno_error("symlink `{}`", to);
            } else if (::mknod(to.c_str(), st.st_mode & S_IFMT, st.st_rdev) < 0) {
                return errno_error("mknod `{}`", to);
            }
            BOCK_TRY(meta(from, to, st));
            bytes += st.st_blocks * 512;
        }
        return ok();
    }
};

}  // namespace

Result<VfsIdMap> parse_vfs_ids(const std::string& uidmapping, const std::string& gidmapping) {
    VfsIdMap m;
    auto parse = [](const std::string& s, std::vector<uint32_t>& out) -> Result<void> {
        if (s.empty()) return ok();
        size_t i = 0;
        while (i <= s.size()) {
            size_t j = s.find(':', i);
            if (j == std::string::npos) j = s.size();
            char* end = nullptr;
            std::string part = s.substr(i, j - i);
            unsigned long v = std::strtoul(part.c_str(), &end, 10);
            if (part.empty() || *end) return make_error("id mapping `{}`: `{}` is not a number", s, part);
            out.push_back(static_cast<uint32_t>(v));
            i = j + 1;
        }
        if (out.size() % 3) return make_error("id mapping `{}` is not CONTAINER:HOST:COUNT triples", s);
        return ok();
    };
    BOCK_TRY(parse(uidmapping, m.uid));
    BOCK_TRY(parse(gidmapping, m.gid));
    return m;
}

Result<uint64_t> copy_layers(const std::vector<std::string>& lowers, const std::string& dest, const VfsIdMap& ids) {
    Copier c{ids, 0, {}};
    for (const auto& layer : lowers) {
        c.links.clear();
        BOCK_TRY_CTX(c.layer_dir(layer, dest), fmt::format("layer `{}`", layer));
    }
    if (!lowers.empty()) {
        struct stat st;
        if (::lstat(lowers.back().c_str(), &st) == 0) BOCK_TRY(c.meta(lowers.back(), dest, st));
    }
    return c.bytes;
}

}  // namespace bock::layers
