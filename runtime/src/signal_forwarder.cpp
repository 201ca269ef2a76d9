#include "signal_forwarder.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace bock::runtime {

namespace {

std::atomic<pid_t> g_forward_to{0};
std::atomic<int> g_notify_fd{-1};
static_assert(std::atomic<pid_t>::is_always_lock_free);
static_assert(std::atomic<int>::is_always_lock_free);

void forward_signal(int sig) {
    int saved = errno;
    pid_t pid = g_forward_to.load(std::memory_order_relaxed);
    if (pid > 0) ::kill(pid, sig);
    int fd = g_notify_fd.load(std::memory_order_relaxed);
    if (fd >= 0) {
        unsigned char b = static_cast<unsigned char>(sig);
        (void)!::write(fd, &b, 1);
    }
    errno = saved;
}

}  // namespace

// The signals stay blocked from the moment the handlers are installed until
// a target is set: one that arrives in between waits (pending) and is then
// forwarded, rather than reaching a handler with no one to forward to. The
// child resets its mask (reset_signals) before it runs anything.
SignalForwarder::SignalForwarder(bool enabled) : enabled_(enabled) {
    if (!enabled_) return;
    sigset_t set;
    sigemptyset(&set);
    for (int sig : kSignals) sigaddset(&set, sig);
    ::sigprocmask(SIG_BLOCK, &set, &old_mask_);
    struct sigaction sa = {};
    sa.sa_handler = forward_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < std::size(kSignals); ++i) ::sigaction(kSignals[i], &sa, &old_[i]);
}

SignalForwarder::~SignalForwarder() {
    if (!enabled_) return;
    sigset_t set;
    sigemptyset(&set);
    for (int sig : kSignals) sigaddset(&set, sig);
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    g_forward_to.store(0);
    g_notify_fd.store(-1);
    for (size_t i = 0; i < std::size(kSignals); ++i) ::sigaction(kSignals[i], &old_[i], nullptr);
    // What is still pending meets the caller's own handlers.
    ::sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
}

void SignalForwarder::target(pid_t pid) {
    if (!enabled_) return;
    g_forward_to.store(pid);
    ::sigprocmask(SIG_SETMASK, &old_mask_, nullptr);  // pending ones are forwarded now
}

}  // namespace bock::runtime

namespace bock::runtime {

void SignalForwarder::notify(int fd) {
    if (enabled_) g_notify_fd.store(fd);
}

}  // namespace bock::runtime
