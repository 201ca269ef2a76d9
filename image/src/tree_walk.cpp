// Reading a tree (an overlay upper directory or a mounted root) as tar
// entries. Everything is opened relative to its parent directory without
// following symlinks, so a container cannot redirect the walk.
#include "tree_walk.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include <archive_entry.h>

#include "archive_util.hpp"
#include "bock/common/fs.hpp"
#include "bock/common/sys.hpp"

namespace bock::image::detail {

namespace {

constexpr const char* override_stat_xattr = "user.containers.override_stat";
// The OCI forms, which fuse-overlayfs also writes in its upper directory.
constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";

std::string xattr_of(int dirfd, const char* name, const char* key) {
    // lgetxattr through /proc/self/fd keeps the lookup relative to dirfd.
    std::string p = fmt::format("/proc/self/fd/{}/{}", dirfd, name);
    char buf[256];
    ssize_t n = ::lgetxattr(p.c_str(), key, buf, sizeof buf);
    if (n <= 0) return {};
    return std::string(buf, static_cast<size_t>(n));
}

bool has_flag(int dirfd, const char* name, const char* trusted, const char* user, std::string_view want) {
    for (const char* k : {trusted, user}) {
        auto v = xattr_of(dirfd, name, k);
        if (!v.empty() && (want.empty() || v == want)) return true;
    }
    return false;
}

// "UID:GID:MODE[:TYPE]" as containers/storage writes it.
void apply_override(struct stat& st, const std::string& v) {
    unsigned uid, gid, mode;
    if (std::sscanf(v.c_str(), "%u:%u:%o", &uid, &gid, &mode) != 3) return;
    st.st_uid = uid;
    st.st_gid = gid;
    st.st_mode = (st.st_mode & S_IFMT) | (mode & 07777);
}

struct Walker {
    const WalkOptions& opts;
    const TreeVisitor& fn;
    std::map<std::pair<dev_t, ino_t>, std::string> links;  // first path of each multiply-linked file

    Result<void> dir(int dirfd, const std::string& prefix, const std::string& shown) {
        int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
        if (dup < 0) return errno_error("read directory `{}`", shown);
        DIR* d = ::fdopendir(dup);
        if (!d) {
            ::close(dup);
            return errno_error("read directory `{}`", shown);
        }
        // The names as the layer shows them, each with the name it has here:
        // fuse-overlayfs writes a whiteout it cannot mknod as a ".wh.NAME"
        // file and marks an opaque directory with a ".wh..wh..opq" file too.
        std::vector<std::pair<std::string, std::string>> names;
        errno = 0;
        while (struct dirent* de = ::readdir(d)) {
            std::string n = de->d_name;
            if (n == "." || n == "..") continue;
            if (opts.overlay_upper && n == kOpaqueMarker) continue;
            std::string shown_name = opts.overlay_upper && n.starts_with(kWhiteoutPrefix) ? n.substr(kWhiteoutPrefix.size()) : n;
            names.emplace_back(std::move(shown_name), std::move(n));
        }
        int err = errno;
        ::closedir(d);
        if (err) return Error(err, fmt::format("read directory `{}`", shown));
        if (opts.only) {
            // What the image had here and the copy has not: whiteouts with no
            // name here (an empty second member).
            if (auto it = opts.only->deleted.find(prefix); it != opts.only->deleted.end())
                for (const auto& n : it->second) names.emplace_back(n, std::string());
        }
        std::sort(names.begin(), names.end());
        for (const auto& [n, real] : names) BOCK_TRY(entry(dirfd, prefix, n, real, shown));
        return ok();
    }

    // `shown_name` is the entry's name in the layer, `name` its name here
    // (".wh.NAME" for a whiteout written as a file).
    Result<void> entry(int dirfd, const std::string& prefix, const std::string& shown_name, const std::string& name,
                       const std::string& shown) {
        TreeEntry e;
        e.path = prefix.empty() ? shown_name : prefix + "/" + shown_name;
        if (opts.only && name.empty()) {  // deleted from the image's view
            e.whiteout = true;
            e.st.st_mode = S_IFCHR;
            return fn(e, dirfd, shown_name.c_str());
        }
        if (opts.only && !opts.only->keep.contains(e.path)) return ok();
        std::string where = shown + "/" + name;
        if (::fstatat(dirfd, name.c_str(), &e.st, AT_SYMLINK_NOFOLLOW) < 0) return errno_error("stat `{}`", where);
        if (opts.overlay_upper) {
            if (S_ISCHR(e.st.st_mode) && e.st.st_rdev == makedev(0, 0)) e.whiteout = true;
            if (shown_name != name) e.whiteout = true;
            // The xattr form (Linux 6.7+, rootless with userxattr): an empty
            // file carrying overlay.whiteout.
            if (S_ISREG(e.st.st_mode) && e.st.st_size == 0 &&
                has_flag(dirfd, name.c_str(), "trusted.overlay.whiteout", "user.overlay.whiteout", ""))
                e.whiteout = true;
            if (S_ISDIR(e.st.st_mode) &&
                (has_flag(dirfd, name.c_str(), "trusted.overlay.opaque", "user.overlay.opaque", "y") ||
                 xattr_of(dirfd, name.c_str(), "user.fuseoverlayfs.opaque") == "y" ||
                 ::faccessat(dirfd, (name + "/" + std::string(kOpaqueMarker)).c_str(), F_OK, AT_SYMLINK_NOFOLLOW) == 0))
                e.opaque = true;
        }
        if (opts.single_id && !e.whiteout && !S_ISLNK(e.st.st_mode)) {
            auto v = xattr_of(dirfd, name.c_str(), override_stat_xattr);
            if (!v.empty()) apply_override(e.st, v);
        }
        if (S_ISLNK(e.st.st_mode)) {
            std::string target(PATH_MAX, '\0');
            ssize_t n = ::readlinkat(dirfd, name.c_str(), target.data(), target.size());
            if (n < 0) return errno_error("read symlink `{}`", where);
            target.resize(static_cast<size_t>(n));
            e.symlink = std::move(target);
        }
        if (!e.whiteout && !S_ISDIR(e.st.st_mode) && e.st.st_nlink > 1) {
            auto key = std::pair{e.st.st_dev, e.st.st_ino};
            auto it = links.find(key);
            if (it != links.end()) e.hardlink = it->second;
            else links.emplace(key, e.path);
        }
        BOCK_TRY(fn(e, dirfd, name.c_str()));
        if (S_ISDIR(e.st.st_mode) && !e.whiteout) {
            Fd sub = BOCK_TRY(sys::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
            BOCK_TRY(dir(sub.get(), e.path, where));
        }
        return ok();
    }
};

// The image as its layer directories show it, looked up path by path.
class ImageView {
public:
    explicit ImageView(const std::vector<std::string>& lowers) : lowers_(lowers) {}

    // The topmost layer's entry for `path`, unless a whiteout or an opaque
    // directory above hides it.
    std::optional<struct stat> lookup(const std::string& path, std::string* where = nullptr) {
        for (auto it = lowers_.rbegin(); it != lowers_.rend(); ++it) {
            std::string p = *it + "/" + path;
            struct stat st;
            if (::lstat(p.c_str(), &st) == 0) {
                if (is_whiteout(p, st)) return std::nullopt;
                if (where) *where = p;
                return st;
            }
            if (hidden_below(*it, path)) return std::nullopt;
        }
        return std::nullopt;
    }

    // The names the image has in directory `dir`.
    std::set<std::string> children(const std::string& dir) {
        std::set<std::string> seen, out;
        for (auto it = lowers_.rbegin(); it != lowers_.rend(); ++it) {
            std::string d = dir.empty() ? *it : *it + "/" + dir;
            struct stat st;
            if (::lstat(d.c_str(), &st) < 0) {
                if (hidden_below(*it, dir)) break;
                continue;
            }
            if (!S_ISDIR(st.st_mode)) break;  // a file here hides what lies below
            for (const auto& n : fs::list_dir(d).value_or(std::vector<std::string>{})) {
                if (!seen.insert(n).second) continue;
                struct stat c;
                std::string p = d + "/" + n;
                if (::lstat(p.c_str(), &c) == 0 && !is_whiteout(p, c)) out.insert(n);
            }
            if (is_opaque(d)) break;
        }
        return out;
    }

private:
    static bool is_whiteout(const std::string& p, const struct stat& st) {
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) return true;
        char v[4];
        return S_ISREG(st.st_mode) && st.st_size == 0 &&
               (::lgetxattr(p.c_str(), "user.overlay.whiteout", v, sizeof v) >= 0 ||
                ::lgetxattr(p.c_str(), "trusted.overlay.whiteout", v, sizeof v) >= 0);
    }
    bool is_opaque(const std::string& d) {
        auto [it, added] = opaque_.try_emplace(d, false);
        if (added) {
            char v[2];
            it->second = (::lgetxattr(d.c_str(), "user.overlay.opaque", v, 2) == 1 && v[0] == 'y') ||
                         (::lgetxattr(d.c_str(), "trusted.overlay.opaque", v, 2) == 1 && v[0] == 'y');
        }
        return it->second;
    }
    // Whether layer `l`, which has no entry at `path`, hides the layers
    // below it there: a whiteout or a file at one of its parents, or an
    // opaque parent directory.
    bool hidden_below(const std::string& l, const std::string& path) {
        for (size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
            std::string p = l + "/" + path.substr(0, slash);
            struct stat st;
            if (::lstat(p.c_str(), &st) < 0) return false;
            if (!S_ISDIR(st.st_mode) || is_opaque(p)) return true;
        }
        return false;
    }

    const std::vector<std::string>& lowers_;
    std::map<std::string, bool> opaque_;
};

// Marks `path` and the directories above it to be written.
void keep_with_parents(CopyChanges& c, std::string path) {
    while (!path.empty() && c.keep.insert(path).second) {
        auto slash = path.rfind('/');
        path = slash == std::string::npos ? std::string() : path.substr(0, slash);
    }
}

bool same_entry(const std::string& copy_path, const struct stat& a, const std::string& image_path, const struct stat& b) {
    if ((a.st_mode & S_IFMT) != (b.st_mode & S_IFMT) || (a.st_mode & 07777) != (b.st_mode & 07777) ||
        a.st_uid != b.st_uid || a.st_gid != b.st_gid)
        return false;
    if (S_ISDIR(a.st_mode)) return true;
    if (a.st_size != b.st_size || a.st_mtim.tv_sec != b.st_mtim.tv_sec || a.st_mtim.tv_nsec != b.st_mtim.tv_nsec ||
        a.st_rdev != b.st_rdev || a.st_nlink != b.st_nlink)
        return false;
    if (S_ISLNK(a.st_mode)) {
        auto x = fs::readlink(copy_path), y = fs::readlink(image_path);
        return x && y && *x == *y;
    }
    return true;
}

Result<void> compare_dir(const std::string& copy, const std::string& rel, ImageView& image, CopyChanges& out) {
    std::string here = rel.empty() ? copy : copy + "/" + rel;
    auto names = BOCK_TRY(fs::list_dir(here));
    std::set<std::string> had = image.children(rel);
    for (const auto& n : names) {
        had.erase(n);
        std::string r = rel.empty() ? n : rel + "/" + n;
        std::string p = copy + "/" + r;
        struct stat st;
        if (::lstat(p.c_str(), &st) < 0) return errno_error("stat `{}`", p);
        std::string ip;
        auto base = image.lookup(r, &ip);
        bool dir_in_both = base && S_ISDIR(base->st_mode) && S_ISDIR(st.st_mode);
        if (!base || !same_entry(p, st, ip, *base)) {
            keep_with_parents(out, r);
            // A directory the image did not have as one: all of it is new.
            if (S_ISDIR(st.st_mode) && !dir_in_both) {
                BOCK_TRY(walk_tree(p, {}, [&](const TreeEntry& e, int, const char*) -> Result<void> {
                    out.keep.insert(r + "/" + e.path);
                    return ok();
                }));
                continue;
            }
        }
        if (dir_in_both) BOCK_TRY(compare_dir(copy, r, image, out));
    }
    if (!had.empty()) {
        if (!rel.empty()) keep_with_parents(out, rel);
        out.deleted[rel].assign(had.begin(), had.end());
    }
    return ok();
}

}  // namespace

Result<CopyChanges> compare_copy(const std::string& copy, const std::vector<std::string>& lowers) {
    ImageView image(lowers);
    CopyChanges out;
    BOCK_TRY(compare_dir(copy, "", image, out));
    return out;
}

namespace {

std::string whiteout_name(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".wh." + path;
    return path.substr(0, slash + 1) + ".wh." + path.substr(slash + 1);
}

}  // namespace

Result<void> walk_tree(const std::string& root, const WalkOptions& opts, const TreeVisitor& fn) {
    Fd r = BOCK_TRY(sys::open(root, O_RDONLY | O_DIRECTORY));
    Walker w{opts, fn, {}};
    return w.dir(r.get(), "", root);
}

Result<void> write_tar_entry(struct archive* a, const TreeEntry& e, int dirfd, const char* name,
                             const TarEntryOptions& opts) {
    auto clamp = [&](int64_t t) { return opts.clamp_mtime && t > *opts.clamp_mtime ? *opts.clamp_mtime : t; };
    auto header = [&](const std::string& path, mode_t type, mode_t perm, int64_t size) -> Result<void> {
        ArchiveEntry ae(archive_entry_new());
        archive_entry_set_pathname(ae.get(), path.c_str());
        archive_entry_set_mtime(ae.get(), clamp(e.st.st_mtim.tv_sec), 0);
        archive_entry_set_uid(ae.get(), e.st.st_uid);
        archive_entry_set_gid(ae.get(), e.st.st_gid);
        archive_entry_set_perm(ae.get(), perm & 07777);
        if (!e.hardlink.empty() && type != AE_IFDIR) {
            archive_entry_set_filetype(ae.get(), AE_IFREG);
            archive_entry_set_hardlink(ae.get(), e.hardlink.c_str());
            archive_entry_set_size(ae.get(), 0);
        } else {
            archive_entry_set_filetype(ae.get(), type);
            archive_entry_set_size(ae.get(), size);
            if (type == AE_IFLNK) archive_entry_set_symlink(ae.get(), e.symlink.c_str());
            if (type == AE_IFCHR || type == AE_IFBLK) archive_entry_set_rdev(ae.get(), e.st.st_rdev);
        }
        if (archive_write_header(a, ae.get()) < ARCHIVE_WARN)
            return make_error("write tar entry `{}`: {}", path, archive_err(a));
        return ok();
    };
    if (e.whiteout) {
        ArchiveEntry ae(archive_entry_new());
        std::string p = whiteout_name(e.path);
        archive_entry_set_pathname(ae.get(), p.c_str());
        archive_entry_set_filetype(ae.get(), AE_IFREG);
        archive_entry_set_perm(ae.get(), 0644);
        archive_entry_set_size(ae.get(), 0);
        archive_entry_set_mtime(ae.get(), clamp(e.st.st_mtim.tv_sec), 0);
        if (archive_write_header(a, ae.get()) < ARCHIVE_WARN)
            return make_error("write tar entry `{}`: {}", p, archive_err(a));
        return ok();
    }
    mode_t m = e.st.st_mode;
    if (!e.hardlink.empty()) return header(e.path, AE_IFREG, m, 0);
    if (S_ISDIR(m)) {
        BOCK_TRY(header(e.path, AE_IFDIR, m, 0));
        if (e.opaque) {
            std::string o = e.path + "/.wh..wh..opq";
            ArchiveEntry ae(archive_entry_new());
            archive_entry_set_pathname(ae.get(), o.c_str());
            archive_entry_set_filetype(ae.get(), AE_IFREG);
            archive_entry_set_perm(ae.get(), 0644);
            archive_entry_set_size(ae.get(), 0);
            archive_entry_set_mtime(ae.get(), clamp(e.st.st_mtim.tv_sec), 0);
            if (archive_write_header(a, ae.get()) < ARCHIVE_WARN)
                return make_error("write tar entry `{}`: {}", o, archive_err(a));
        }
        return ok();
    }
    if (S_ISLNK(m)) return header(e.path, AE_IFLNK, m, 0);
    if (S_ISFIFO(m)) return header(e.path, AE_IFIFO, m, 0);
    if (S_ISCHR(m)) return header(e.path, AE_IFCHR, m, 0);
    if (S_ISBLK(m)) return header(e.path, AE_IFBLK, m, 0);
    if (S_ISSOCK(m)) return ok();  // sockets are not content (tar cannot hold them)
    // A regular file: header, then the content as it is now.
    Fd fd = BOCK_TRY(sys::openat(dirfd, name, O_RDONLY | O_NOFOLLOW));
    BOCK_TRY(header(e.path, AE_IFREG, m, e.st.st_size));
    char buf[65536];
    int64_t left = e.st.st_size;
    while (left > 0) {
        ssize_t n = ::read(fd.get(), buf, static_cast<size_t>(std::min<int64_t>(left, sizeof buf)));
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno_error("read `{}`", e.path);
        }
        if (n == 0) return make_error("read `{}`: the file shrank while being written", e.path)
                        .with_hint("stop the container (or commit with --pause) and try again");
        if (archive_write_data(a, buf, static_cast<size_t>(n)) < 0)
            return make_error("write tar entry `{}`: {}", e.path, archive_err(a));
        left -= n;
    }
    return ok();
}

}  // namespace bock::image::detail
