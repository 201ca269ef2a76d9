// Forwards the usual terminal and job-control signals received by the
// runtime to the process it waits for in the foreground (a container's
// first process for `run`, an exec'd process for `exec`), and restores the
// caller's handlers when it goes away. One process is the target at a time;
// until the first target() the signals are held (blocked), not lost.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <iterator>

namespace bock::runtime {

class SignalForwarder {
public:
    static constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

    explicit SignalForwarder(bool enabled);
    ~SignalForwarder();
    SignalForwarder(const SignalForwarder&) = delete;
    SignalForwarder& operator=(const SignalForwarder&) = delete;
    void target(pid_t pid);
    // Also writes each forwarded signal's number (one byte) to `fd` (a
    // non-blocking pipe; -1: none), so a poll loop can act on it (the pty
    // proxy resizes on SIGWINCH).
    void notify(int fd);

private:
    bool enabled_;
    struct sigaction old_[std::size(kSignals)] = {};
    sigset_t old_mask_ = {};  // the caller's mask, restored by target() and the destructor
};

}  // namespace bock::runtime
