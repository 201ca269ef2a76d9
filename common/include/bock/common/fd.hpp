// RAII file descriptors. Fd closes on destruction (no EINTR retry: Linux
// always releases the descriptor). Every Fd Bock opens is O_CLOEXEC.
#pragma once

#include <unistd.h>

#include <utility>

namespace bock {

class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() { reset(); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept {
        if (this != &o) reset(std::exchange(o.fd_, -1));
        return *this;
    }

    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    explicit operator bool() const { return valid(); }
    int release() { return std::exchange(fd_, -1); }
    void reset(int fd = -1) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

struct FdPair {
    Fd first;   // for a pipe: read end
    Fd second;  // for a pipe: write end
};

}  // namespace bock
