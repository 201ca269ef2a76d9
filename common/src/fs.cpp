#include "bock/common/fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "bock/common/fd.hpp"
#include "bock/common/sys.hpp"

namespace bock::fs {

Result<std::string> read_file(const std::string& path) {
    Fd fd = BOCK_TRY(sys::open(path, O_RDONLY));
    std::string out;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno_error("read `{}`", path);
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

Result<void> write_file(const std::string& path, std::string_view data) {
    Fd fd = BOCK_TRY(sys::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    int r = sys::raw::write_all(fd.get(), data.data(), data.size());
    if (r < 0) return Error(-r, fmt::format("write `{}`", path));
    return ok();
}

Result<void> write_file_atomic(const std::string& path, std::string_view data, mode_t mode) {
    return write_file_replace(path, data, mode, true);
}

Result<void> write_file_replace(const std::string& path, std::string_view data, mode_t mode, bool durable) {
    auto slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    std::string tmp = path + ".tmp-XXXXXX";
    int raw_fd = ::mkostemp(tmp.data(), O_CLOEXEC);
    if (raw_fd < 0) return errno_error("create temporary file for `{}`", path);
    Fd fd(raw_fd);
    auto fail = [&](Error e) {
        ::unlink(tmp.c_str());
        return e;
    };
    if (::fchmod(fd.get(), mode) < 0) return fail(errno_error("chmod `{}`", tmp));
    if (int r = sys::raw::write_all(fd.get(), data.data(), data.size()); r < 0)
        return fail(Error(-r, fmt::format("write `{}`", tmp)));
    if (durable && ::fsync(fd.get()) < 0) return fail(errno_error("fsync `{}`", tmp));
    fd.reset();
    if (::rename(tmp.c_str(), path.c_str()) < 0) return fail(errno_error("rename `{}` to `{}`", tmp, path));
    if (durable)
        if (auto d = sys::open(dir, O_RDONLY | O_DIRECTORY)) ::fsync(d->get());
    return ok();
}

Result<void> mkdir_p(const std::string& path, mode_t mode) {
    if (path.empty()) return ok();
    std::string cur;
    size_t i = 0;
    if (path[0] == '/') {
        cur = "/";
        i = 1;
    }
    while (i <= path.size()) {
        size_t j = path.find('/', i);
        if (j == std::string::npos) j = path.size();
        if (j > i) {
            if (!cur.empty() && cur.back() != '/') cur += '/';
            cur.append(path, i, j - i);
            if (::mkdir(cur.c_str(), mode) < 0 && errno != EEXIST) return errno_error("create directory `{}`", cur);
        }
        i = j + 1;
    }
    struct stat st;
    if (::stat(path.c_str(), &st) < 0) return errno_error("stat `{}`", path);
    if (!S_ISDIR(st.st_mode)) return Error(ENOTDIR, fmt::format("create directory `{}`", path));
    return ok();
}

namespace {

// Removes the contents of the directory open as `dfd` (device `dev`).
Result<void> remove_contents(int dfd, dev_t dev, const std::string& shown) {
    int dup = ::fcntl(dfd, F_DUPFD_CLOEXEC, 3);
    if (dup < 0) return errno_error("dup `{}`", shown);
    DIR* d = ::fdopendir(dup);
    if (!d) {
        ::close(dup);
        return errno_error("open directory `{}`", shown);
    }
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
        std::string_view n = e->d_name;
        if (n != "." && n != "..") names.emplace_back(n);
    }
    ::closedir(d);
    for (const auto& n : names) {
        struct stat st;
        if (::fstatat(dfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT) continue;
            return errno_error("stat `{}/{}`", shown, n);
        }
        if (S_ISDIR(st.st_mode)) {
            if (st.st_dev != dev) return Error(EXDEV, fmt::format("remove `{}/{}`: a mount point", shown, n));
            // A read-only directory cannot have entries removed: make it writable first.
            ::fchmodat(dfd, n.c_str(), 0700, 0);
            int cfd = ::openat(dfd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (cfd < 0) return errno_error("open `{}/{}`", shown, n);
            Fd child(cfd);
            BOCK_TRY(remove_contents(child.get(), dev, shown + "/" + n));
            if (::unlinkat(dfd, n.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT)
                return errno_error("remove `{}/{}`", shown, n);
        } else if (::unlinkat(dfd, n.c_str(), 0) < 0 && errno != ENOENT) {
            return errno_error("remove `{}/{}`", shown, n);
        }
    }
    return ok();
}

}  // namespace

Result<void> remove_all(const std::string& path) {
    struct stat st;
    if (::lstat(path.c_str(), &st) < 0) {
        if (errno == ENOENT) return ok();
        return errno_error("stat `{}`", path);
    }
    if (!S_ISDIR(st.st_mode)) {
        if (::unlink(path.c_str()) < 0 && errno != ENOENT) return errno_error("remove `{}`", path);
        return ok();
    }
    ::chmod(path.c_str(), 0700);
    Fd fd = BOCK_TRY(sys::open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
    BOCK_TRY(remove_contents(fd.get(), st.st_dev, path));
    if (::rmdir(path.c_str()) < 0 && errno != ENOENT) return errno_error("remove `{}`", path);
    return ok();
}

bool exists(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

bool is_dir(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<std::string> readlink(const std::string& path) {
    char buf[4096];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
    if (n < 0) return errno_error("readlink `{}`", path);
    return std::string(buf, static_cast<size_t>(n));
}

Result<std::string> make_temp_dir(const std::string& dir, const std::string& prefix) {
    std::string tmpl = join(dir, prefix + "XXXXXX");
    if (!::mkdtemp(tmpl.data())) return errno_error("create temporary directory in `{}`", dir);
    return tmpl;
}

std::string join(std::string_view a, std::string_view b) {
    std::string out(a);
    while (!out.empty() && out.back() == '/' && out.size() > 1) out.pop_back();
    while (!b.empty() && b.front() == '/') b.remove_prefix(1);
    if (out.empty()) return std::string(b);
    if (out.back() != '/') out += '/';
    out += b;
    return out;
}

}  // namespace bock::fs

namespace bock::fs {

namespace {
Result<std::vector<std::string>> names_of(DIR* d, const std::string& dir) {
    std::vector<std::string> names;
    errno = 0;
    while (dirent* e = ::readdir(d)) {
        std::string_view n = e->d_name;
        if (n != "." && n != "..") names.emplace_back(n);
    }
    int err = errno;
    ::closedir(d);
    if (err) return Error(err, fmt::format("read directory `{}`", dir));
    std::sort(names.begin(), names.end());
    return names;
}
}  // namespace

Result<std::vector<std::string>> list_dir(const std::string& dir) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return errno_error("read directory `{}`", dir);
    return names_of(d, dir);
}

Result<std::vector<std::string>> list_dir_at(int dirfd) {
    // fdopendir takes the fd it is given: a new one, readable.
    Fd own = BOCK_TRY(sys::openat(dirfd, ".", O_RDONLY | O_DIRECTORY));
    DIR* d = ::fdopendir(own.get());
    if (!d) return errno_error("read directory");
    (void)own.release();
    return names_of(d, fmt::format("fd {}", dirfd));
}

}  // namespace bock::fs
