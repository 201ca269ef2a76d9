// RAII child process. A Pid that goes out of scope still owning a process
// kills it with SIGKILL and reaps it, so no error path leaks a child.
// detach() hands ownership away (e.g. a session holder that must outlive us).
#pragma once

#include <sys/types.h>

#include <utility>

#include "bock/common/error.hpp"

namespace bock {

class Pid {
public:
    Pid() = default;
    explicit Pid(pid_t pid) : pid_(pid) {}
    ~Pid();
    Pid(const Pid&) = delete;
    Pid& operator=(const Pid&) = delete;
    Pid(Pid&& o) noexcept : pid_(std::exchange(o.pid_, -1)) {}
    Pid& operator=(Pid&& o) noexcept;

    pid_t get() const { return pid_; }
    bool valid() const { return pid_ > 0; }
    pid_t detach() { return std::exchange(pid_, -1); }

    // Waits (retrying EINTR) and returns the raw wait status; the Pid is
    // empty afterwards.
    Result<int> wait();
    // Sends a signal; ESRCH is not an error.
    Result<void> kill(int sig) const;

private:
    pid_t pid_ = -1;
};

// Docker's convention: exit code, or 128 + signal number.
int exit_code_from_status(int wait_status);

}  // namespace bock
