// Layer extraction. libarchive only decodes; every entry is written here with
// *at() calls relative to a parent directory that was opened without
// following any symlink (openat2 RESOLVE_NO_SYMLINKS|RESOLVE_BENEATH), so no
// entry can write outside `dest`, whatever came before it in the archive.
#include "bock/image/extract.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <string_view>
#include <vector>

#include "archive_util.hpp"
#include "layer_stream.hpp"
#include "path_util.hpp"
#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/sys.hpp"

namespace bock::image {

namespace {

constexpr std::string_view whiteout_prefix = ".wh.";
constexpr std::string_view opaque_name = ".wh..wh..opq";
constexpr const char* override_stat_xattr = "user.containers.override_stat";

using detail::join_components;
using detail::split_entry_path;

int open_component(int dir, const std::string& name, int flags) { return detail::open_beneath(dir, name, flags); }

// The value containers/storage writes (FormatContainersOverrideXattrDevice):
// "UID:GID:MODE:TYPE", MODE the permission bits incl. setuid/setgid/sticky
// as 4 octal digits. fuse-overlayfs reads the first three ("%d:%d:%o") and
// keeps the file type of the real file.
std::string override_stat_value(uid_t uid, gid_t gid, mode_t mode, mode_t type) {
    const char* t = S_ISDIR(type) ? "dir" : S_ISLNK(type) ? "symlink" : S_ISFIFO(type) ? "pipe" : "file";
    return fmt::format("{}:{}:{:04o}:{}", uid, gid, mode & 07777, t);
}

// The ids mapped in this process's user namespace ("0-65536"), from
// /proc/self/{uid,gid}_map; whether `id` is one of them.
std::pair<std::string, bool> describe_map(const char* file, unsigned id) {
    std::ifstream in(file);
    std::vector<std::pair<unsigned long long, unsigned long long>> ranges;  // [first, end)
    unsigned long long inside, outside, count;
    while (in >> inside >> outside >> count)
        if (count > 0) ranges.emplace_back(inside, inside + count);
    std::sort(ranges.begin(), ranges.end());
    std::string out;
    bool mapped = false;
    for (size_t i = 0; i < ranges.size();) {
        auto [first, end] = ranges[i];
        for (i++; i < ranges.size() && ranges[i].first <= end; i++) end = std::max(end, ranges[i].second);
        if (!out.empty()) out += ", ";
        out += end - first == 1 ? fmt::format("{}", first) : fmt::format("{}-{}", first, end - 1);
        mapped = mapped || (id >= first && id < end);
    }
    return {out.empty() ? "none" : out, mapped};
}

// An entry name for an error line: control characters escaped.
std::string printable(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (c == '\n') out += "\\n";
        else if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
        else out += static_cast<char>(c);
    }
    return out;
}

struct DeferredDir {
    std::vector<std::string> comps;
    mode_t mode;
    struct timespec mtime;
};

class Extractor {
public:
    Extractor(Fd root, std::string dest, const ExtractOptions& opts)
        : root_(std::move(root)), dest_(std::move(dest)), opts_(opts) {}

    Result<ExtractStats> run(struct archive* a);

private:
    // Opens the directory made of comps[0..n), creating missing directories
    // (0755) when `create`. A symlink or non-directory on the way is refused.
    Result<Fd> open_dir(const std::vector<std::string>& comps, size_t n, bool create);
    Result<void> remove_existing(int parent, const std::vector<std::string>& comps, bool keep_dir);
    Result<void> entry(struct archive* a, struct archive_entry* e);
    Result<void> apply_owner(int parent, const std::string& name, const std::string& shown,
                             uid_t uid, gid_t gid, mode_t mode, mode_t type, int fd);
    void apply_xattrs(struct archive_entry* e, int fd, const std::string& shown);
    Result<void> write_data(struct archive* a, int fd, int64_t size, const std::string& shown);
    Result<void> finish_dirs();

    Fd root_;
    std::string dest_;
    ExtractOptions opts_;
    ExtractStats stats_;
    uint64_t skipped_devices_ = 0;
    std::set<std::string> skipped_;  // device nodes not created (a hardlink to one is skipped too)
    std::vector<DeferredDir> dirs_;
};

Result<Fd> Extractor::open_dir(const std::vector<std::string>& comps, size_t n, bool create) {
    int cur = ::fcntl(root_.get(), F_DUPFD_CLOEXEC, 3);
    if (cur < 0) return errno_error("dup `{}`", dest_);
    Fd fd(cur);
    for (size_t i = 0; i < n; i++) {
        int next = open_component(fd.get(), comps[i], O_PATH | O_DIRECTORY);
        if (next == -ENOENT && create) {
            if (::mkdirat(fd.get(), comps[i].c_str(), 0755) < 0 && errno != EEXIST)
                return errno_error("create directory `{}`", join_components(comps, i + 1));
            next = open_component(fd.get(), comps[i], O_PATH | O_DIRECTORY);
        }
        if (next == -ELOOP || next == -EXDEV || next == -ENOTDIR)
            return make_error("`{}` is a symlink or not a directory: refusing to write through it",
                              printable(join_components(comps, i + 1)));
        if (next < 0) return Error(-next, fmt::format("open `{}`", join_components(comps, i + 1)));
        fd.reset(next);
    }
    return fd;
}

// Last entry wins: whatever is at the name goes, except a directory that a
// directory entry merges into.
Result<void> Extractor::remove_existing(int parent, const std::vector<std::string>& comps, bool keep_dir) {
    const std::string& name = comps.back();
    struct stat st;
    if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT) return ok();
        return errno_error("stat `{}`", join_components(comps, comps.size()));
    }
    if (S_ISDIR(st.st_mode)) {
        if (keep_dir) return ok();
        return fs::remove_all(fs::join(dest_, join_components(comps, comps.size())));
    }
    if (::unlinkat(parent, name.c_str(), 0) < 0 && errno != ENOENT)
        return errno_error("remove `{}`", join_components(comps, comps.size()));
    return ok();
}

void Extractor::apply_xattrs(struct archive_entry* e, int fd, const std::string& shown) {
    if (archive_entry_xattr_reset(e) == 0) return;
    const char* key;
    const void* value;
    size_t size;
    while (archive_entry_xattr_next(e, &key, &value, &size) == ARCHIVE_OK) {
        std::string_view k = key;
        // Overlay's own attributes are ours to set (whiteouts, opaque dirs),
        // never the archive's: a crafted redirect could escape the layer.
        // The same for the owner record of single-ID stores: only we write it.
        if (k.starts_with("trusted.overlay.") || k.starts_with("user.overlay.") || k == override_stat_xattr) continue;
        if (::fsetxattr(fd, key, value, size, 0) < 0)
            log::debug("extract `{}`: cannot set xattr {}: {}", shown, k, std::strerror(errno));
    }
}

Result<void> Extractor::apply_owner(int parent, const std::string& name, const std::string& shown,
                                    uid_t uid, gid_t gid, mode_t mode, mode_t type, int fd) {
    int r = fd >= 0 ? ::fchown(fd, uid, gid) : ::fchownat(parent, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW);
    int err = r == 0 ? 0 : errno;
    // Single-ID: every entry records its owner, root's too: fuse-overlayfs
    // (1.10) reads a layer whose root carries the attribute only when
    // every entry does (ENODATA otherwise).
    if (opts_.single_id && (r == 0 || err == EINVAL || err == EPERM)) {
        if (S_ISLNK(type)) return ok();  // user.* xattrs are not allowed on symlinks
        std::string v = override_stat_value(uid, gid, mode, type);
        int x;
        if (fd >= 0) {
            x = ::fsetxattr(fd, override_stat_xattr, v.data(), v.size(), 0);
        } else {
            char p[64];
            sys::raw::fd_path(p, parent);
            std::string path = std::string(p) + "/" + name;
            x = ::lsetxattr(path.c_str(), override_stat_xattr, v.data(), v.size(), 0);
        }
        if (x < 0) log::debug("extract `{}`: cannot record owner {}:{}: {}", shown, uid, gid, std::strerror(errno));
        return ok();
    }
    if (r == 0) return ok();
    if (err == EINVAL) {
        // The kernel's answer for an id outside the user namespace's map.
        auto [uids, uid_ok] = describe_map("/proc/self/uid_map", uid);
        auto [gids, gid_ok] = describe_map("/proc/self/gid_map", gid);
        std::string which = !uid_ok ? fmt::format("uid {} is not mapped (uids {} are mapped)", uid, uids)
                          : !gid_ok ? fmt::format("gid {} is not mapped (gids {} are mapped)", gid, gids)
                                    : fmt::format("uids {} and gids {} are mapped", uids, gids);
        return Error(0, fmt::format("chown `{}` to {}:{}: {} in the user namespace", shown, uid, gid, which))
            .with_hint(fmt::format(
                "the user needs at least {} subordinate ids in /etc/subuid and /etc/subgid (root can run: usermod "
                "--add-subuids 100000-{} --add-subgids 100000-{} $USER); then end the running session so that "
                "the next bock command maps the new range: kill the holder process whose pid is in "
                "$XDG_RUNTIME_DIR/bock/session/holder.pid",
                uint64_t{std::max(uid, gid)} + 1, 100000 + uint64_t{std::max(uid, gid)},
                100000 + uint64_t{std::max(uid, gid)}));
    }
    return Error(err, fmt::format("chown `{}` to {}:{}", shown, uid, gid));
}

Result<void> Extractor::write_data(struct archive* a, int fd, int64_t size, const std::string& shown) {
    const void* buf;
    size_t len;
    la_int64_t off;
    for (;;) {
        int r = archive_read_data_block(a, &buf, &len, &off);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN) return make_error("read data of `{}`: {}", shown, detail::archive_err(a));
        const char* p = static_cast<const char*>(buf);
        // Runs of zeros are left as holes (the file is new, so they read as
        // zeros): sparse files stay sparse, and a layer of zeros cannot fill
        // the disk before the decompression caps refuse it.
        if (len > 0 && p[0] == 0 && std::memcmp(p, p + 1, len - 1) == 0) continue;
        while (len > 0) {
            ssize_t n = ::pwrite(fd, p, len, off);
            if (n < 0) {
                if (errno == EINTR) continue;
                return errno_error("write `{}`", shown);
            }
            p += n;
            len -= static_cast<size_t>(n);
            off += n;
            stats_.bytes += static_cast<uint64_t>(n);
        }
    }
    if (::ftruncate(fd, size) < 0) return errno_error("truncate `{}`", shown);  // sparse tail
    return ok();
}

Result<void> Extractor::entry(struct archive* a, struct archive_entry* e) {
    const char* raw_path = archive_entry_pathname(e);
    if (!raw_path) return make_error("entry without a path name");
    auto comps = BOCK_TRY(split_entry_path(raw_path));
    const std::string shown = printable(join_components(comps, comps.size()));
    const mode_t type = archive_entry_filetype(e);
    const mode_t mode = archive_entry_perm(e);
    const uid_t uid = static_cast<uid_t>(archive_entry_uid(e));
    const gid_t gid = static_cast<gid_t>(archive_entry_gid(e));
    const char* hardlink = archive_entry_hardlink(e);

    if (comps.empty()) {  // "./": the layer's root directory
        if (type != AE_IFDIR || hardlink) return make_error("entry `{}`: not a directory", raw_path);
        dirs_.push_back({comps, mode, {archive_entry_mtime(e), 0}});
        return apply_owner(root_.get(), ".", ".", uid, gid, mode, S_IFDIR, -1);
    }
    // aufs metadata (.wh..wh.plnk/, .wh..wh.aufs) is not content; the opaque
    // marker is handled below.
    for (size_t i = 0; i < comps.size(); i++) {
        if (std::string_view(comps[i]).starts_with(".wh..wh.") && !(i + 1 == comps.size() && comps[i] == opaque_name)) {
            log::debug("extract `{}`: skipping aufs metadata", shown);
            return ok();
        }
    }
    Fd parent = BOCK_TRY(open_dir(comps, comps.size() - 1, true));
    const std::string& name = comps.back();

    if (name == opaque_name) {
        const char* key = opts_.rootless ? "user.overlay.opaque" : "trusted.overlay.opaque";
        char p[64];
        sys::raw::fd_path(p, parent.get());
        Fd dir = BOCK_TRY(sys::open(p, O_RDONLY | O_DIRECTORY));
        if (::fsetxattr(dir.get(), key, "y", 1, 0) < 0)
            return errno_error("mark `{}` opaque ({})", join_components(comps, comps.size() - 1), key);
        return ok();
    }
    if (std::string_view(name).starts_with(whiteout_prefix)) {
        std::vector<std::string> target = comps;
        target.back() = name.substr(whiteout_prefix.size());
        if (target.back().empty() || target.back() == "." || target.back() == "..")
            return make_error("invalid whiteout (of `{}`)", printable(target.back()));
        BOCK_TRY(remove_existing(parent.get(), target, false));
        if (::mknodat(parent.get(), target.back().c_str(), S_IFCHR | 0, makedev(0, 0)) < 0)
            return errno_error("create whiteout `{}`", join_components(target, target.size()));
        return ok();
    }

    if (hardlink) {
        auto tcomps = BOCK_TRY(split_entry_path(hardlink));
        if (tcomps.empty()) return make_error("hardlink `{}`: empty target", shown);
        if (tcomps == comps) return ok();
        auto tparent = BOCK_TRY(open_dir(tcomps, tcomps.size() - 1, false).context(
            fmt::format("hardlink `{}` to `{}`", shown, hardlink)));
        struct stat st;
        if (::fstatat(tparent.get(), tcomps.back().c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT && skipped_.contains(join_components(tcomps, tcomps.size()))) {
                skipped_devices_++;  // a link to a device node that was skipped
                skipped_.insert(join_components(comps, comps.size()));
                return ok();
            }
            return errno_error("hardlink `{}` to `{}`", shown, hardlink);
        }
        if (S_ISDIR(st.st_mode)) return make_error("hardlink `{}` to `{}`: target is a directory", shown, hardlink);
        BOCK_TRY(remove_existing(parent.get(), comps, false));
        if (::linkat(tparent.get(), tcomps.back().c_str(), parent.get(), name.c_str(), 0) < 0)
            return errno_error("hardlink `{}` to `{}`", shown, hardlink);
        return ok();
    }

    const struct timespec times[2] = {{archive_entry_mtime(e), 0}, {archive_entry_mtime(e), 0}};
    switch (type) {
    case AE_IFREG: {
        BOCK_TRY(remove_existing(parent.get(), comps, false));
        int fdn = ::openat(parent.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fdn < 0) return errno_error("create `{}`", shown);
        Fd fd(fdn);
        BOCK_TRY(write_data(a, fd.get(), archive_entry_size(e), shown));
        BOCK_TRY(apply_owner(parent.get(), name, shown, uid, gid, mode, S_IFREG, fd.get()));
        if (::fchmod(fd.get(), mode) < 0) return errno_error("chmod `{}`", shown);
        apply_xattrs(e, fd.get(), shown);
        ::futimens(fd.get(), times);
        return ok();
    }
    case AE_IFDIR: {
        BOCK_TRY(remove_existing(parent.get(), comps, true));
        if (::mkdirat(parent.get(), name.c_str(), 0755) < 0 && errno != EEXIST)
            return errno_error("create directory `{}`", shown);
        int dfd = open_component(parent.get(), name, O_RDONLY | O_DIRECTORY);
        if (dfd < 0) return Error(-dfd, fmt::format("open directory `{}`", shown));
        Fd dir(dfd);
        BOCK_TRY(apply_owner(parent.get(), name, shown, uid, gid, mode, S_IFDIR, dir.get()));
        apply_xattrs(e, dir.get(), shown);
        dirs_.push_back({comps, mode, times[0]});  // mode and times once children exist
        return ok();
    }
    case AE_IFLNK: {
        const char* target = archive_entry_symlink(e);
        if (!target) return make_error("symlink `{}` without a target", shown);
        BOCK_TRY(remove_existing(parent.get(), comps, false));
        if (::symlinkat(target, parent.get(), name.c_str()) < 0) return errno_error("create symlink `{}`", shown);
        BOCK_TRY(apply_owner(parent.get(), name, shown, uid, gid, 0777, S_IFLNK, -1));
        ::utimensat(parent.get(), name.c_str(), times, AT_SYMLINK_NOFOLLOW);
        return ok();
    }
    case AE_IFCHR:
    case AE_IFBLK: {
        dev_t rdev = archive_entry_rdev(e);
        bool whiteout = type == AE_IFCHR && rdev == makedev(0, 0);
        if (opts_.rootless && !whiteout) {
            skipped_devices_++;
            skipped_.insert(join_components(comps, comps.size()));
            return ok();
        }
        BOCK_TRY(remove_existing(parent.get(), comps, false));
        if (::mknodat(parent.get(), name.c_str(), (type == AE_IFCHR ? S_IFCHR : S_IFBLK) | (mode & 0777), rdev) < 0) {
            if (errno == EPERM && !whiteout) {
                skipped_devices_++;
                skipped_.insert(join_components(comps, comps.size()));
                return ok();
            }
            return errno_error("create device `{}`", shown);
        }
        BOCK_TRY(apply_owner(parent.get(), name, shown, uid, gid, mode, type, -1));
        ::fchmodat(parent.get(), name.c_str(), mode, 0);
        ::utimensat(parent.get(), name.c_str(), times, AT_SYMLINK_NOFOLLOW);
        return ok();
    }
    case AE_IFIFO: {
        BOCK_TRY(remove_existing(parent.get(), comps, false));
        if (::mkfifoat(parent.get(), name.c_str(), 0600) < 0) return errno_error("create fifo `{}`", shown);
        BOCK_TRY(apply_owner(parent.get(), name, shown, uid, gid, mode, S_IFIFO, -1));
        ::fchmodat(parent.get(), name.c_str(), mode, 0);
        ::utimensat(parent.get(), name.c_str(), times, AT_SYMLINK_NOFOLLOW);
        return ok();
    }
    default:
        log::debug("extract `{}`: skipping entry of type {:o}", shown, type);
        return ok();
    }
}

// Directory modes and times are set last (deepest first), so a read-only
// directory does not stop its own entries from being written.
Result<void> Extractor::finish_dirs() {
    std::set<std::string> done;  // the last entry for a directory wins
    for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
        if (!done.insert(join_components(it->comps, it->comps.size())).second) continue;
        auto dir = open_dir(it->comps, it->comps.size(), false);
        if (!dir) continue;  // replaced by a later entry
        char p[64];
        sys::raw::fd_path(p, dir->get());
        Fd fd = BOCK_TRY(sys::open(p, O_RDONLY | O_DIRECTORY));
        if (::fchmod(fd.get(), it->mode) < 0)
            return errno_error("chmod `{}`", it->comps.empty() ? "." : join_components(it->comps, it->comps.size()));
        const struct timespec times[2] = {it->mtime, it->mtime};
        ::futimens(fd.get(), times);
    }
    return ok();
}

Result<ExtractStats> Extractor::run(struct archive* a) {
    for (;;) {
        struct archive_entry* e = nullptr;
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN) return make_error("read layer: {}", detail::archive_err(a));
        stats_.entries++;
        const char* p = archive_entry_pathname(e);
        BOCK_TRY_CTX(entry(a, e), fmt::format("extract `{}`", p ? printable(p) : "?"));
    }
    BOCK_TRY(finish_dirs());
    // fuse-overlayfs honours user.containers.override_stat in a layer only
    // when the layer's root carries it.
    if (opts_.single_id && ::fgetxattr(root_.get(), override_stat_xattr, nullptr, 0) < 0) {
        struct stat st;
        char p[64];
        sys::raw::fd_path(p, root_.get());
        if (::fstat(root_.get(), &st) == 0) {
            std::string v = override_stat_value(0, 0, st.st_mode, S_IFDIR);
            if (::setxattr(p, override_stat_xattr, v.data(), v.size(), 0) < 0)
                log::debug("extract: cannot mark the layer root with {}: {}", override_stat_xattr, std::strerror(errno));
        }
    }
    if (skipped_devices_ > 0)
        log::warn("layer: skipped {} device node{} (device nodes cannot be created rootless)",
                  skipped_devices_, skipped_devices_ == 1 ? "" : "s");
    return stats_;
}

}  // namespace

Result<ExtractStats> extract_layer(int fd, const std::string& dest, const ExtractOptions& opts) {
    Fd root = BOCK_TRY(sys::open(dest, O_RDONLY | O_DIRECTORY));
    auto stream = BOCK_TRY(detail::DecompressedStream::open(fd, opts.limits));
    detail::ArchiveReader a(archive_read_new());
    if (!a) return make_error("extract into `{}`: out of memory", dest);
    archive_read_support_format_tar(a.get());
    archive_read_support_format_gnutar(a.get());
    archive_read_support_format_empty(a.get());
    BOCK_TRY_CTX(stream->attach(a.get()), fmt::format("extract into `{}`", dest));
    Extractor x(std::move(root), dest, opts);
    auto stats = x.run(a.get());
    // A failed decompression shows up in the tar reader as a short read:
    // report the cause.
    if (stream->failure()) return *stream->failure();
    if (!stats) return stats.error();
    stats->diff_id = BOCK_TRY(stream->finish());
    stats->uncompressed = stream->uncompressed();
    stats->compressed = stream->compressed();
    return stats;
}

}  // namespace bock::image
