#include "copy_tree.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <vector>

#include "bock/common/fd.hpp"
#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/sys.hpp"

namespace bock::engine {
namespace {

Result<void> copy_data(int in, int out, const std::string& name) {
    char buf[1 << 16];
    for (;;) {
        ssize_t n = ::read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_error("read `{}`", name);
        if (n == 0) return ok();
        if (int r = sys::raw::write_all(out, buf, static_cast<size_t>(n)); r < 0) return Error(-r, fmt::format("write `{}`", name));
    }
}

// Owner, mode and times of the copy, in that order (a chown clears set-id bits).
Result<void> finish(int ddir, const std::string& dname, const struct stat& st, const CopyTreeOptions& opts) {
    if (opts.keep_owners && ::fchownat(ddir, dname.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
        return errno_error("chown `{}` to {}:{}", dname, st.st_uid, st.st_gid)
            .with_hint("the owner must be mapped in the container's user namespace");
    if (!S_ISLNK(st.st_mode) && ::fchmodat(ddir, dname.c_str(), st.st_mode & 07777, 0) < 0)
        return errno_error("chmod `{}`", dname);
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (::utimensat(ddir, dname.c_str(), times, AT_SYMLINK_NOFOLLOW) < 0) return errno_error("set the times of `{}`", dname);
    return ok();
}

// Removes whatever non-directory entry is at `dname` (a copy replaces it).
Result<void> clear_target(int ddir, const std::string& dname) {
    if (::unlinkat(ddir, dname.c_str(), 0) < 0 && errno != ENOENT) {
        if (errno == EISDIR) return make_error("cannot overwrite directory `{}` with a non-directory", dname);
        return errno_error("remove `{}`", dname);
    }
    return ok();
}

}  // namespace

Result<void> copy_children(int sdir, int ddir, const CopyTreeOptions& opts) {
    for (const auto& n : BOCK_TRY(fs::list_dir_at(sdir))) BOCK_TRY(copy_entry(sdir, n, ddir, n, opts));
    return ok();
}

Result<void> copy_entry(int sdir, const std::string& sname, int ddir, const std::string& dname,
                        const CopyTreeOptions& opts) {
    struct stat st{};
    if (::fstatat(sdir, sname.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return errno_error("stat `{}`", sname);
    if (S_ISDIR(st.st_mode)) {
        struct stat dst{};
        if (::fstatat(ddir, dname.c_str(), &dst, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(dst.st_mode))
            return make_error("cannot overwrite non-directory `{}` with a directory", dname);
        if (::mkdirat(ddir, dname.c_str(), 0700) < 0 && errno != EEXIST) return errno_error("mkdir `{}`", dname);
        Fd s = BOCK_TRY(sys::openat(sdir, sname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
        Fd d = BOCK_TRY(sys::openat(ddir, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
        BOCK_TRY_CTX(copy_children(s.get(), d.get(), opts), fmt::format("copy `{}`", sname));
        return finish(ddir, dname, st, opts);
    }
    BOCK_TRY(clear_target(ddir, dname));
    if (S_ISREG(st.st_mode)) {
        Fd in = BOCK_TRY(sys::openat(sdir, sname, O_RDONLY | O_NOFOLLOW));
        Fd out = BOCK_TRY(sys::openat(ddir, dname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600));
        BOCK_TRY(copy_data(in.get(), out.get(), sname));
    } else if (S_ISLNK(st.st_mode)) {
        std::vector<char> buf(static_cast<size_t>(st.st_size) + 2);
        ssize_t n = ::readlinkat(sdir, sname.c_str(), buf.data(), buf.size());
        if (n < 0) return errno_error("readlink `{}`", sname);
        std::string target(buf.data(), static_cast<size_t>(n));
        if (::symlinkat(target.c_str(), ddir, dname.c_str()) < 0) return errno_error("symlink `{}`", dname);
    } else if (::mknodat(ddir, dname.c_str(), st.st_mode & (S_IFMT | 0600), st.st_rdev) < 0) {
        if (errno == EPERM && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) {
            log::warn("device `{}` ({}:{}) not copied: no permission to make device nodes here", sname,
                      major(st.st_rdev), minor(st.st_rdev));
            return ok();
        }
        return errno_error("mknod `{}`", dname);
    }
    return finish(ddir, dname, st, opts);
}

}  // namespace bock::engine
