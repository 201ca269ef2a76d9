#include "copy.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <utility>

#include "bock/common/fd.hpp"
#include "bock/common/fs.hpp"
#include "bock/common/strings.hpp"
#include "bock/common/sys.hpp"
#include "bock/image/digest.hpp"
#include "bock/image/extract.hpp"

namespace bock::builder {

namespace {

constexpr uint64_t kInRoot = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

std::string fd_dir(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

bool has_glob(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

std::string join_rel(const std::string& a, const std::string& b) { return a.empty() ? b : a + "/" + b; }

// Names in a directory open as `fd`, sorted.
Result<std::vector<std::string>> names_in(int fd) {
    auto v = BOCK_TRY(fs::list_dir(fd_dir(fd)));
    std::sort(v.begin(), v.end());
    return v;
}

Result<std::string> clean_rel(const std::string& p) {
    std::vector<std::string> out;
    for (auto& e : strings::split(p, '/')) {
        if (e == ".") continue;
        if (e == "..") {
            if (out.empty()) return make_error("`{}` points outside the build context", p).with_hint("copy only files inside the context directory");
            out.pop_back();
            continue;
        }
        out.push_back(e);
    }
    std::string s;
    for (auto& e : out) s = join_rel(s, e);
    return s;
}

Result<Fd> open_in(int root, const std::string& rel, int flags) {
    return sys::openat2(root, rel.empty() ? "/" : "/" + rel, flags, 0, kInRoot);
}

// Splits "a/b/c" into ("a/b", "c").
std::pair<std::string, std::string> split_last(const std::string& rel) {
    auto s = rel.rfind('/');
    if (s == std::string::npos) return {"", rel};
    return {rel.substr(0, s), rel.substr(s + 1)};
}

Result<void> copy_data(int in, int out, const std::string& what) {
    char buf[1 << 16];
    for (;;) {
        ssize_t n = ::read(in, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno_error("read `{}`", what);
        }
        if (n == 0) return ok();
        if (sys::raw::write_all(out, buf, static_cast<size_t>(n)) < 0) return errno_error("write `{}`", what);
    }
}

struct Copier {
    const CopyOptions& opts;
    // Files with several links copied so far, by the source's (dev, inode):
    // their copies, open, so that later names of the same file become
    // hardlinks to the copy (as buildah's copier keeps them). Bounded: past
    // kMaxLinked, further ones are copied as separate files.
    static constexpr size_t kMaxLinked = 256;
    std::map<std::pair<dev_t, ino_t>, Fd> linked = {};

    uint32_t uid(const struct stat& st) const { return opts.owner ? opts.owner->first : opts.keep_owner ? st.st_uid : 0; }
    uint32_t gid(const struct stat& st) const { return opts.owner ? opts.owner->second : opts.keep_owner ? st.st_gid : 0; }
    mode_t mode_of(const struct stat& st) const { return opts.mode ? *opts.mode : (st.st_mode & 07777); }

    // Makes room for a non-directory `name` in `dst`.
    Result<void> clear(int dst, const std::string& name, const std::string& rel) {
        struct stat st;
        if (::fstatat(dst, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return ok();
        if (S_ISDIR(st.st_mode)) return make_error("cannot copy `{}` over a directory of the image", rel).with_hint("remove the directory first, or copy into it with a trailing /");
        if (::unlinkat(dst, name.c_str(), 0) < 0) return errno_error("replace `{}`", rel);
        return ok();
    }

    Result<void> entry(int src, const std::string& sname, int dst, const std::string& dname, const std::string& rel) {
        if (opts.ignore && !rel.empty() && opts.ignore->excluded(rel)) {
            struct stat st;
            if (::fstatat(src, sname.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) && opts.ignore->has_exceptions()) {
                // A `!` pattern may bring back something below it.
            } else {
                return ok();
            }
        }
        struct stat st;
        if (::fstatat(src, sname.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return errno_error("stat `{}`", rel);
        if (S_ISDIR(st.st_mode)) {
            Fd sd = BOCK_TRY(sys::openat(src, sname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
            struct stat dt;
            bool fresh = ::fstatat(dst, dname.c_str(), &dt, AT_SYMLINK_NOFOLLOW) < 0;
            if (!fresh && !S_ISDIR(dt.st_mode)) {
                BOCK_TRY(clear(dst, dname, rel));
                fresh = true;
            }
            if (fresh && ::mkdirat(dst, dname.c_str(), 0700) < 0) return errno_error("create directory `{}`", rel);
            Fd dd = BOCK_TRY(sys::openat(dst, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
            BOCK_TRY(contents(sd.get(), dd.get(), rel));
            if (!fresh) return ok();  // a directory the image has keeps its owner and mode
            if (::fchown(dd.get(), uid(st), gid(st)) < 0) return errno_error("chown `{}`", rel);
            if (::fchmod(dd.get(), mode_of(st)) < 0) return errno_error("chmod `{}`", rel);
            struct timespec ts[2] = {st.st_atim, st.st_mtim};
            ::futimens(dd.get(), ts);
            return ok();
        }
        BOCK_TRY(clear(dst, dname, rel));
        if (S_ISLNK(st.st_mode)) {
            char target[4096];
            ssize_t n = ::readlinkat(src, sname.c_str(), target, sizeof target - 1);
            if (n < 0) return errno_error("readlink `{}`", rel);
            target[n] = 0;
            if (::symlinkat(target, dst, dname.c_str()) < 0) return errno_error("create symlink `{}`", rel);
            if (::fchownat(dst, dname.c_str(), uid(st), gid(st), AT_SYMLINK_NOFOLLOW) < 0) return errno_error("chown `{}`", rel);
            struct timespec ts[2] = {st.st_atim, st.st_mtim};
            ::utimensat(dst, dname.c_str(), ts, AT_SYMLINK_NOFOLLOW);
            return ok();
        }
        if (S_ISREG(st.st_mode)) {
            auto key = std::pair{st.st_dev, st.st_ino};
            if (st.st_nlink > 1)
                if (auto it = linked.find(key); it != linked.end()) {
                    // linkat through /proc/self/fd: AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH.
                    char path[32];
                    sys::raw::fd_path(path, it->second.get());
                    if (::linkat(AT_FDCWD, path, dst, dname.c_str(), AT_SYMLINK_FOLLOW) < 0)
                        return errno_error("create the hardlink `{}`", rel);
                    return ok();
                }
            Fd in = BOCK_TRY(sys::openat(src, sname, O_RDONLY | O_NOFOLLOW));
            Fd out = BOCK_TRY(sys::openat(dst, dname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600));
            if (st.st_nlink > 1 && linked.size() < kMaxLinked)
                linked.emplace(key, BOCK_TRY(sys::openat(dst, dname, O_PATH | O_NOFOLLOW)));
            BOCK_TRY(copy_data(in.get(), out.get(), rel));
            if (::fchown(out.get(), uid(st), gid(st)) < 0) return errno_error("chown `{}`", rel);
            if (::fchmod(out.get(), mode_of(st)) < 0) return errno_error("chmod `{}`", rel);
            struct timespec ts[2] = {st.st_atim, st.st_mtim};
            ::futimens(out.get(), ts);
            return ok();
        }
        // FIFOs and device nodes as they are (devices fail rootless: say so).
        if (::mknodat(dst, dname.c_str(), st.st_mode, st.st_rdev) < 0) return errno_error("create special file `{}`", rel);
        if (::fchownat(dst, dname.c_str(), uid(st), gid(st), AT_SYMLINK_NOFOLLOW) < 0) return errno_error("chown `{}`", rel);
        return ok();
    }

    Result<void> contents(int sd, int dd, const std::string& rel) {
        for (const auto& n : BOCK_TRY(names_in(sd))) BOCK_TRY(entry(sd, n, dd, n, join_rel(rel, n)));
        return ok();
    }
};

bool is_archive(int fd) {
    unsigned char b[512] = {};
    ssize_t n = ::pread(fd, b, sizeof b, 0);
    if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) return true;                              // gzip
    if (n >= 3 && b[0] == 'B' && b[1] == 'Z' && b[2] == 'h') return true;                // bzip2
    if (n >= 6 && b[0] == 0xfd && b[1] == '7' && b[2] == 'z' && b[3] == 'X') return true;  // xz
    if (n >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd) return true;  // zstd
    return n >= 262 && std::string_view(reinterpret_cast<char*>(b) + 257, 5) == "ustar";
}

Result<void> hash_entry(int dir, const std::string& name, const std::string& rel, const IgnoreRules* ignore,
                        image::Sha256& h) {
    struct stat st;
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return errno_error("stat `{}`", rel);
    if (ignore && !rel.empty() && ignore->excluded(rel) && !(S_ISDIR(st.st_mode) && ignore->has_exceptions())) return ok();
    h.update(fmt::format("{}\n{:o}\n", rel, st.st_mode));
    if (S_ISDIR(st.st_mode)) {
        Fd d = BOCK_TRY(sys::openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
        for (const auto& n : BOCK_TRY(names_in(d.get()))) BOCK_TRY(hash_entry(d.get(), n, join_rel(rel, n), ignore, h));
    } else if (S_ISLNK(st.st_mode)) {
        char target[4096];
        ssize_t n = ::readlinkat(dir, name.c_str(), target, sizeof target);
        if (n < 0) return errno_error("readlink `{}`", rel);
        h.update(std::string_view(target, static_cast<size_t>(n)));
    } else if (S_ISREG(st.st_mode)) {
        Fd f = BOCK_TRY(sys::openat(dir, name, O_RDONLY | O_NOFOLLOW));
        char buf[1 << 16];
        for (;;) {
            ssize_t n = ::read(f.get(), buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return errno_error("read `{}`", rel);
            if (n == 0) break;
            h.update(buf, static_cast<size_t>(n));
        }
    } else {
        h.update(fmt::format("{}", st.st_rdev));
    }
    h.update("\n");
    return ok();
}

// The directory `dest` in the root, created when missing: 0755, owned by
// `owner` (COPY --chown's, as buildah does) or root.
Result<Fd> dest_dir(int dst_root, const std::string& dest, std::optional<std::pair<uint32_t, uint32_t>> owner = {}) {
    std::string prefix;
    for (const auto& comp : strings::split(dest, '/')) {
        if (comp == "." || comp == "..") return make_error("destination `{}`: `.` and `..` are not allowed here", dest);
        Fd parent = BOCK_TRY(open_in(dst_root, prefix, O_PATH | O_DIRECTORY));
        if (::mkdirat(parent.get(), comp.c_str(), 0755) < 0) {
            if (errno != EEXIST) return errno_error("create directory `{}`", dest);
        } else {
            if (::fchmodat(parent.get(), comp.c_str(), 0755, 0) < 0) return errno_error("chmod `{}`", dest);
            if (owner && ::fchownat(parent.get(), comp.c_str(), owner->first, owner->second, AT_SYMLINK_NOFOLLOW) < 0)
                return errno_error("chown `{}`", dest);
        }
        prefix = join_rel(prefix, comp);
    }
    return open_in(dst_root, prefix, O_PATH | O_DIRECTORY);
}

}  // namespace

Result<std::vector<std::string>> expand_sources(int root_fd, const std::vector<std::string>& patterns, const IgnoreRules* ignore) {
    std::vector<std::string> out;
    for (const auto& p : patterns) {
        auto rel = BOCK_TRY(clean_rel(p));
        if (!has_glob(rel)) {
            struct stat st;
            auto fd = open_in(root_fd, rel, O_PATH | O_NOFOLLOW);
            if (!fd || ::fstat(fd->get(), &st) < 0 || (ignore && !rel.empty() && ignore->excluded(rel)))
                return make_error("`{}`: no such file or directory in the build context", p)
                    .with_hint(ignore && !rel.empty() && ignore->excluded(rel) ? "it is excluded by the ignore file (.containerignore / .dockerignore)"
                                                                              : "paths are relative to the context directory");
            out.push_back(rel);
            continue;
        }
        // Element by element: a glob element lists its directory.
        std::vector<std::string> cur{""};
        for (const auto& el : strings::split(rel, '/')) {
            std::vector<std::string> next;
            for (const auto& base : cur) {
                if (!has_glob(el)) {
                    next.push_back(join_rel(base, el));
                    continue;
                }
                auto d = open_in(root_fd, base, O_RDONLY | O_DIRECTORY);
                if (!d) continue;
                for (const auto& n : BOCK_TRY(names_in(d->get())))
                    if (::fnmatch(el.c_str(), n.c_str(), FNM_PERIOD) == 0) next.push_back(join_rel(base, n));
            }
            cur = std::move(next);
        }
        size_t before = out.size();
        for (const auto& c : cur) {
            if (!open_in(root_fd, c, O_PATH | O_NOFOLLOW)) continue;
            if (ignore && ignore->excluded(c)) continue;
            out.push_back(c);
        }
        if (out.size() == before)
            return make_error("`{}` matches no file in the build context", p).with_hint("check the pattern and the ignore file");
    }
    return out;
}

Result<std::string> hash_sources(int root_fd, const std::vector<std::string>& sources, const IgnoreRules* ignore) {
    image::Sha256 h;
    for (const auto& s : sources) {
        auto [parent, name] = split_last(s);
        if (s.empty()) {
            Fd d = BOCK_TRY(open_in(root_fd, "", O_RDONLY | O_DIRECTORY));
            for (const auto& n : BOCK_TRY(names_in(d.get()))) BOCK_TRY(hash_entry(d.get(), n, n, ignore, h));
            continue;
        }
        Fd pd = BOCK_TRY(open_in(root_fd, parent, O_PATH | O_DIRECTORY));
        BOCK_TRY(hash_entry(pd.get(), name, s, ignore, h));
        struct stat st;
        if (::fstatat(pd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
            // Followed when copied: its target's content counts too.
            if (auto t = open_in(root_fd, s, O_RDONLY); t && ::fstat(t->get(), &st) == 0 && S_ISREG(st.st_mode)) {
                char buf[1 << 16];
                for (ssize_t n; (n = ::read(t->get(), buf, sizeof buf)) > 0;) h.update(buf, static_cast<size_t>(n));
            }
        }
    }
    return h.finish().hex;
}

Result<void> copy_sources(int src_root, const std::vector<std::string>& sources, int dst_root, const std::string& dest,
                          const CopyOptions& opts) {
    Copier c{opts};
    // Which sources are directories decides what dest means.
    bool any_dir = false;
    for (const auto& s : sources) {
        Fd f = BOCK_TRY(open_in(src_root, s, O_PATH | O_NOFOLLOW));
        struct stat st;
        if (::fstat(f.get(), &st) == 0 && S_ISDIR(st.st_mode)) any_dir = true;
    }
    std::string d = dest;
    bool dest_dir_form = d.ends_with("/") || d.ends_with("/.") || d == "/";
    if (sources.size() > 1 && !dest_dir_form)
        return make_error("copying {} sources to `{}`: the destination must be a directory", sources.size(), dest)
            .with_hint(fmt::format("end it with a slash: {}/", dest));
    if (!dest_dir_form && !any_dir) {
        // One file: dest is its new name, unless dest is a directory already.
        auto rel = BOCK_TRY(clean_rel(d));
        if (auto f = open_in(dst_root, rel, O_PATH | O_DIRECTORY)) dest_dir_form = true;
    }
    auto dest_rel = BOCK_TRY(clean_rel(d));
    for (const auto& s : sources) {
        auto [parent, name] = split_last(s);
        Fd spd = BOCK_TRY(open_in(src_root, parent, O_PATH | O_DIRECTORY));
        struct stat st;
        if (::fstatat(spd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0 && !s.empty()) return errno_error("stat `{}`", s);
        if (!s.empty() && S_ISLNK(st.st_mode)) {
            // A source named by the instruction is followed (inside its root), as buildah does.
            Fd target = BOCK_TRY(open_in(src_root, s, O_PATH).context(fmt::format("follow the symlink `{}`", s)));
            if (::fstat(target.get(), &st) < 0) return errno_error("stat `{}`", s);
            if (!S_ISREG(st.st_mode)) return make_error("`{}` is a symlink to a directory or special file", s).with_hint("name the target itself");
            Fd in = BOCK_TRY(sys::open(fd_dir(target.get()), O_RDONLY));
            auto [dparent, dname] = dest_dir_form ? std::pair{dest_rel, name} : split_last(dest_rel);
            Fd dp = BOCK_TRY(dest_dir(dst_root, dparent, opts.owner));
            BOCK_TRY(c.clear(dp.get(), dname, s));
            Fd out = BOCK_TRY(sys::openat(dp.get(), dname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600));
            BOCK_TRY(copy_data(in.get(), out.get(), s));
            if (::fchown(out.get(), c.uid(st), c.gid(st)) < 0) return errno_error("chown `{}`", s);
            if (::fchmod(out.get(), c.mode_of(st)) < 0) return errno_error("chmod `{}`", s);
            continue;
        }
        if (s.empty() || S_ISDIR(st.st_mode)) {
            // A directory's contents into dest (created with the source's mode and the owner).
            auto [dparent, dname] = split_last(dest_rel);
            if (dest_rel.empty()) {
                Fd sd = BOCK_TRY(open_in(src_root, s, O_RDONLY | O_DIRECTORY));
                Fd dd = BOCK_TRY(open_in(dst_root, "", O_RDONLY | O_DIRECTORY));
                BOCK_TRY(c.contents(sd.get(), dd.get(), s));
                continue;
            }
            Fd dp = BOCK_TRY(dest_dir(dst_root, dparent, opts.owner));
            BOCK_TRY(c.entry(spd.get(), s.empty() ? "." : name, dp.get(), dname, s));
            continue;
        }
        if (opts.extract_archives && S_ISREG(st.st_mode)) {
            Fd f = BOCK_TRY(sys::openat(spd.get(), name, O_RDONLY | O_NOFOLLOW));
            if (is_archive(f.get())) {
                Fd dd = BOCK_TRY(dest_dir(dst_root, dest_rel, opts.owner));
                image::ExtractOptions eo;
                BOCK_TRY(image::extract_layer(f.get(), fd_dir(dd.get()), eo).context(fmt::format("ADD: extract `{}`", s)));
                continue;
            }
        }
        if (dest_dir_form) {
            Fd dd = BOCK_TRY(dest_dir(dst_root, dest_rel, opts.owner));
            BOCK_TRY(c.entry(spd.get(), name, dd.get(), name, s));
        } else {
            auto [dparent, dname] = split_last(dest_rel);
            Fd dp = BOCK_TRY(dest_dir(dst_root, dparent, opts.owner));
            BOCK_TRY(c.entry(spd.get(), name, dp.get(), dname, s));
        }
    }
    return ok();
}

Result<void> mkdir_in_root(int dst_root, const std::string& path) {
    auto rel = BOCK_TRY(clean_rel(path));
    BOCK_TRY(dest_dir(dst_root, rel));
    return ok();
}

Result<void> write_file_in_root(int dst_root, const std::string& dest, const std::string& content, const CopyOptions& opts) {
    auto rel = BOCK_TRY(clean_rel(dest));
    auto [dparent, dname] = split_last(rel);
    if (dname.empty()) return make_error("COPY <<: `{}` is not a file name", dest);
    Fd dp = BOCK_TRY(dest_dir(dst_root, dparent, opts.owner));
    Copier c{opts};
    BOCK_TRY(c.clear(dp.get(), dname, rel));
    Fd out = BOCK_TRY(sys::openat(dp.get(), dname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600));
    if (sys::raw::write_all(out.get(), content.data(), content.size()) < 0) return errno_error("write `{}`", dest);
    struct stat none {};
    if (::fchown(out.get(), c.uid(none), c.gid(none)) < 0) return errno_error("chown `{}`", dest);
    if (::fchmod(out.get(), opts.mode.value_or(0644)) < 0) return errno_error("chmod `{}`", dest);
    return ok();
}

}  // namespace bock::builder
