#include "bock/common/lock.hpp"

#include <fcntl.h>
#include <sys/file.h>

#include "bock/common/log.hpp"
#include "bock/common/sys.hpp"

namespace bock {

Result<FileLock> FileLock::try_acquire(const std::string& path, Mode mode) {
    Fd fd = BOCK_TRY(sys::open(path, O_RDWR | O_CREAT, 0600));
    int op = (mode == Mode::exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB;
    FileLock l;
    if (::flock(fd.get(), op) == 0) {
        l.fd_ = std::move(fd);
        return l;
    }
    if (errno == EWOULDBLOCK) return l;
    return errno_error("lock `{}`", path);
}

Result<FileLock> FileLock::acquire(const std::string& path, Mode mode, const std::string& what) {
    FileLock l = BOCK_TRY(try_acquire(path, mode));
    if (l.held()) return l;
    log::notice(fmt::format("waiting for {}: another bock process holds its lock ({})", what, path));
    Fd fd = BOCK_TRY(sys::open(path, O_RDWR | O_CREAT, 0600));
    int op = mode == Mode::exclusive ? LOCK_EX : LOCK_SH;
    while (::flock(fd.get(), op) < 0) {
        if (errno != EINTR) return errno_error("lock `{}`", path);
    }
    l.fd_ = std::move(fd);
    return l;
}

}  // namespace bock
