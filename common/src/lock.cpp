#include "bock/common/lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/sys.hpp"

namespace bock {

namespace {

// "pid 1234 (bock pull 127.0.0.1:5000/x:1)": who holds an exclusive lock,
// written into the lock file so that a waiter can name it.
std::string holder_line() {
    std::string cmd;
    if (auto text = fs::read_file("/proc/self/cmdline")) {
        for (char c : *text) cmd += c == '\0' ? ' ' : c;
        while (!cmd.empty() && cmd.back() == ' ') cmd.pop_back();
        if (auto slash = cmd.rfind('/', cmd.find(' ')); slash != std::string::npos) cmd.erase(0, slash + 1);
        if (cmd.size() > 120) cmd = cmd.substr(0, 117) + "...";
    }
    return fmt::format("pid {} ({})\n", ::getpid(), cmd.empty() ? "?" : cmd);
}

void record_holder(int fd) {
    std::string line = holder_line();
    if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, line.data(), line.size(), 0);
}

std::string read_holder(int fd) {
    char buf[256];
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return {};
    std::string s(buf, static_cast<size_t>(n));
    if (auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
    return s;
}

}  // namespace

Result<FileLock> FileLock::try_acquire(const std::string& path, Mode mode) {
    Fd fd = BOCK_TRY(sys::open(path, O_RDWR | O_CREAT, 0600));
    int op = (mode == Mode::exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB;
    FileLock l;
    if (::flock(fd.get(), op) == 0) {
        if (mode == Mode::exclusive) record_holder(fd.get());
        l.fd_ = std::move(fd);
        return l;
    }
    if (errno == EWOULDBLOCK) return l;
    return errno_error("lock `{}`", path);
}

Result<FileLock> FileLock::acquire(const std::string& path, Mode mode, const std::string& what) {
    FileLock l = BOCK_TRY(try_acquire(path, mode));
    if (l.held()) return l;
    Fd fd = BOCK_TRY(sys::open(path, O_RDWR | O_CREAT, 0600));
    std::string holder = read_holder(fd.get());
    log::notice(fmt::format("waiting for the lock on {}, held by {}", what,
                            holder.empty() ? "another bock process (" + path + ")" : holder));
    int op = mode == Mode::exclusive ? LOCK_EX : LOCK_SH;
    while (::flock(fd.get(), op) < 0) {
        if (errno != EINTR) return errno_error("lock `{}`", path);
    }
    if (mode == Mode::exclusive) record_holder(fd.get());
    l.fd_ = std::move(fd);
    return l;
}

}  // namespace bock
