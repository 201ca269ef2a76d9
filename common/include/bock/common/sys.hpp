// Typed wrappers over the system calls Bock uses. Two layers:
//  - bock::sys::*   return Result<>, allocate freely, add the path to errors;
//  - bock::sys::raw return 0 / -errno, never allocate: the only kind allowed
//    in a child between clone and exec.
#pragma once

#include <fcntl.h>
#include <linux/filter.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/common/fd.hpp"

namespace bock::sys {

Result<Fd> open(const std::string& path, int flags, mode_t mode = 0);           // adds O_CLOEXEC
Result<Fd> openat(int dirfd, const std::string& path, int flags, mode_t mode = 0);  // adds O_CLOEXEC
// openat2(2) with RESOLVE_* flags (e.g. RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS).
Result<Fd> openat2(int dirfd, const std::string& path, int flags, mode_t mode, uint64_t resolve);
Result<FdPair> pipe();                   // O_CLOEXEC
Result<FdPair> socketpair_seqpacket();   // AF_UNIX SOCK_SEQPACKET, O_CLOEXEC

Result<void> mount(const std::string& source, const std::string& target, const char* fstype,
                   unsigned long flags, const std::string& data = {});
Result<void> umount(const std::string& target, int flags = 0);
Result<void> setns(int fd, int nstype);
Result<void> unshare(int flags);
Result<Fd> pidfd_open(pid_t pid);
Result<void> pidfd_send_signal(int pidfd, int sig);
// A non-blocking inotify instance watching `path` for `mask` (IN_*).
Result<Fd> inotify_watch(const std::string& path, uint32_t mask);

// Fork-like clone(2) with namespace flags: returns the child's pid in the
// parent, 0 in the child. The child runs on a copy of the parent's stack.
Result<pid_t> clone_fork(unsigned long flags);

// A seccomp program that libseccomp exported into `fd` (seccomp_export_bpf
// into a memfd): read back, checked (whole instructions, at most
// BPF_MAXINSNS). Generating it is the slow part of loading a filter, so
// callers do it ahead and load the result with raw::seccomp_set_filter.
Result<std::vector<sock_filter>> read_bpf_program(int fd);

namespace raw {
// All return 0 (or a value >= 0) on success and -errno on failure.
int mount(const char* source, const char* target, const char* fstype, unsigned long flags,
          const void* data);
int umount2(const char* target, int flags);
int pivot_root(const char* new_root, const char* put_old);
int openat2(int dirfd, const char* path, int flags, mode_t mode, uint64_t resolve);
int setns(int fd, int nstype);
// seccomp(SECCOMP_SET_MODE_FILTER, flags, prog): its value (a notify fd
// with SECCOMP_FILTER_FLAG_NEW_LISTENER, a thread id when TSYNC failed)
// or -errno. no_new_privs (or CAP_SYS_ADMIN) is the caller's.
long seccomp_set_filter(const sock_filter* prog, size_t len, unsigned flags);
int write_all(int fd, const void* buf, size_t len);
int read_all(int fd, void* buf, size_t len);  // returns bytes read (short only at EOF)
// Writes "/proc/self/fd/N" into buf (at least 32 bytes).
void fd_path(char* buf, int fd);
// One sendmsg(2) of `len` bytes carrying `fd` as SCM_RIGHTS (MSG_NOSIGNAL,
// EINTR retried); returns the bytes sent (possibly short) or -errno.
ssize_t send_with_fd(int sock, const void* data, size_t len, int fd);
// One recvmsg(2) of up to `len` bytes (EINTR retried); the SCM_RIGHTS fd
// that came with it, close-on-exec, goes to *fd (-1 if none), or is closed
// when fd is null. Returns the bytes read (0 at EOF) or -errno.
ssize_t recv_with_fd(int sock, void* buf, size_t len, int* fd);
}  // namespace raw

}  // namespace bock::sys
