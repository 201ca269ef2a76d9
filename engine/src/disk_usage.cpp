// disk_usage (system.hpp): `du -s -B1` of a tree, read through directory
// fds without following symlinks or crossing mounts.
#include <fcntl.h>
#include <sys/stat.h>

#include <set>
#include <utility>

#include "bock/common/fd.hpp"
#include "bock/common/fs.hpp"
#include "bock/common/sys.hpp"
#include "bock/engine/system.hpp"

namespace bock::engine {
namespace {

using Seen = std::set<std::pair<dev_t, ino_t>>;

Result<uint64_t> usage_at(int dirfd, const std::string& name, dev_t dev, Seen& seen) {
    struct stat st{};
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT) return uint64_t{0};  // removed while counting
        return errno_error("stat `{}`", name);
    }
    if (st.st_nlink > 1 && !S_ISDIR(st.st_mode) && !seen.emplace(st.st_dev, st.st_ino).second) return uint64_t{0};
    uint64_t total = static_cast<uint64_t>(st.st_blocks) * 512;
    if (!S_ISDIR(st.st_mode) || st.st_dev != dev) return total;
    Fd d = BOCK_TRY(sys::openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW));
    for (const auto& n : BOCK_TRY_CTX(fs::list_dir_at(d.get()), name))
        total += BOCK_TRY_CTX(usage_at(d.get(), n, dev, seen), name);
    return total;
}

}  // namespace

Result<uint64_t> disk_usage(const std::string& path) {
    struct stat st{};
    if (::lstat(path.c_str(), &st) < 0) {
        if (errno == ENOENT) return uint64_t{0};
        return errno_error("stat `{}`", path);
    }
    Seen seen;
    return usage_at(AT_FDCWD, path, st.st_dev, seen);
}

}  // namespace bock::engine
