// The only place Bock calls raw system calls. Result-returning wrappers
// first, then the allocation-free `raw` layer for code between clone and exec.
#include "bock/common/sys.hpp"

#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace bock::sys {

Result<Fd> open(const std::string& path, int flags, mode_t mode) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd < 0) return errno_error("open `{}`", path);
    return Fd(fd);
}

Result<Fd> openat(int dirfd, const std::string& path, int flags, mode_t mode) {
    int fd = ::openat(dirfd, path.c_str(), flags | O_CLOEXEC, mode);
    if (fd < 0) return errno_error("open `{}`", path);
    return Fd(fd);
}

Result<Fd> openat2(int dirfd, const std::string& path, int flags, mode_t mode, uint64_t resolve) {
    int fd = raw::openat2(dirfd, path.c_str(), flags | O_CLOEXEC, mode, resolve);
    if (fd < 0) return Error(-fd, fmt::format("open `{}`", path));
    return Fd(fd);
}

Result<FdPair> pipe() {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) return errno_error("pipe");
    return FdPair{Fd(p[0]), Fd(p[1])};
}

Result<FdPair> socketpair_seqpacket() {
    int p[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p) < 0) return errno_error("socketpair");
    return FdPair{Fd(p[0]), Fd(p[1])};
}

Result<void> mount(const std::string& source, const std::string& target, const char* fstype,
                   unsigned long flags, const std::string& data) {
    if (::mount(source.c_str(), target.c_str(), fstype, flags, data.empty() ? nullptr : data.c_str()) < 0)
        return errno_error("mount `{}` on `{}`", source, target);
    return ok();
}

Result<void> umount(const std::string& target, int flags) {
    if (::umount2(target.c_str(), flags) < 0) return errno_error("unmount `{}`", target);
    return ok();
}

Result<void> setns(int fd, int nstype) {
    if (::setns(fd, nstype) < 0) return errno_error("setns");
    return ok();
}

Result<void> unshare(int flags) {
    if (::unshare(flags) < 0) return errno_error("unshare");
    return ok();
}

Result<Fd> pidfd_open(pid_t pid) {
    int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd < 0) return errno_error("pidfd_open {}", pid);
    return Fd(fd);
}

Result<Fd> inotify_watch(const std::string& path, uint32_t mask) {
    Fd fd(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!fd) return errno_error("inotify_init1");
    if (::inotify_add_watch(fd.get(), path.c_str(), mask) < 0) return errno_error("watch `{}` (inotify)", path);
    return fd;
}

Result<void> pidfd_send_signal(int pidfd, int sig) {
    if (::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) < 0) return errno_error("send signal {}", sig);
    return ok();
}

Result<pid_t> clone_fork(unsigned long flags) {
    long r = ::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
    if (r < 0) return errno_error("clone");
    return static_cast<pid_t>(r);
}

Result<std::vector<sock_filter>> read_bpf_program(int fd) {
    off_t size = ::lseek(fd, 0, SEEK_END);
    if (size < 0) return errno_error("seccomp: size of the exported filter");
    if (size == 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0)
        return make_error("seccomp: the exported filter has a bad size ({} bytes)", size);
    std::vector<sock_filter> prog(static_cast<size_t>(size) / sizeof(sock_filter));
    if (::lseek(fd, 0, SEEK_SET) < 0) return errno_error("seccomp: rewind the exported filter");
    int n = raw::read_all(fd, prog.data(), static_cast<size_t>(size));
    if (n < 0) return Error(-n, "seccomp: read back the exported filter");
    if (n != size) return make_error("seccomp: the exported filter ended after {} of {} bytes", n, size);
    if (prog.size() > BPF_MAXINSNS)
        return make_error("seccomp: the filter has {} instructions, the kernel accepts at most {}", prog.size(),
                          BPF_MAXINSNS);
    return prog;
}

namespace raw {

int mount(const char* source, const char* target, const char* fstype, unsigned long flags,
          const void* data) {
    return ::mount(source, target, fstype, flags, data) < 0 ? -errno : 0;
}

int umount2(const char* target, int flags) { return ::umount2(target, flags) < 0 ? -errno : 0; }

long seccomp_set_filter(const sock_filter* prog, size_t len, unsigned flags) {
    sock_fprog p{};
    p.len = static_cast<unsigned short>(len);
    p.filter = const_cast<sock_filter*>(prog);
    long r = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &p);
    return r < 0 ? -errno : r;
}

int pivot_root(const char* new_root, const char* put_old) {
    return ::syscall(SYS_pivot_root, new_root, put_old) < 0 ? -errno : 0;
}

int openat2(int dirfd, const char* path, int flags, mode_t mode, uint64_t resolve) {
    struct open_how how {};
    how.flags = static_cast<uint64_t>(flags);
    how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
    how.resolve = resolve;
    long r = ::syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    return r < 0 ? -errno : static_cast<int>(r);
}

int setns(int fd, int nstype) { return ::setns(fd, nstype) < 0 ? -errno : 0; }

int write_all(int fd, const void* buf, size_t len) {
    auto p = static_cast<const char*>(buf);
    while (len > 0) {
        ssize_t n = ::write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        p += n;
        len -= static_cast<size_t>(n);
    }
    return 0;
}

int read_all(int fd, void* buf, size_t len) {
    auto p = static_cast<char*>(buf);
    size_t got = 0;
    while (got < len) {
        ssize_t n = ::read(fd, p + got, len - got);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        if (n == 0) break;
        got += static_cast<size_t>(n);
    }
    return static_cast<int>(got);
}

void fd_path(char* buf, int fd) {
    static const char prefix[] = "/proc/self/fd/";
    size_t i = 0;
    for (; prefix[i]; ++i) buf[i] = prefix[i];
    char digits[16];
    int n = 0;
    unsigned v = fd < 0 ? 0u : static_cast<unsigned>(fd);
    do {
        digits[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v && n < 15);
    while (n) buf[i++] = digits[--n];
    buf[i] = '\0';
}

ssize_t send_with_fd(int sock, const void* data, size_t len, int fd) {
    struct iovec iov = {const_cast<void*>(data), len};
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    struct cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cm), &fd, sizeof fd);
    for (;;) {
        ssize_t n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
        if (n >= 0) return n;
        if (errno != EINTR) return -errno;
    }
}

ssize_t recv_with_fd(int sock, void* buf, size_t len, int* fd) {
    if (fd) *fd = -1;
    struct iovec iov = {buf, len};
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    do n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    int got = -1;
    for (struct cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS && cm->cmsg_len == CMSG_LEN(sizeof(int)))
            std::memcpy(&got, CMSG_DATA(cm), sizeof got);
    if (fd) *fd = got;
    else if (got >= 0) ::close(got);
    return n;
}

}  // namespace raw
}  // namespace bock::sys
