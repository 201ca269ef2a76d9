#include "signal_forwarder.hpp"

#include <atomic>

namespace bock::runtime {

namespace {

std::atomic<pid_t> g_forward_to{0};
static_assert(std::atomic<pid_t>::is_always_lock_free);

void forward_signal(int sig) {
    pid_t pid = g_forward_to.load(std::memory_order_relaxed);
    if (pid > 0) ::kill(pid, sig);
}

}  // namespace

SignalForwarder::SignalForwarder(bool enabled) : enabled_(enabled) {
    if (!enabled_) return;
    struct sigaction sa = {};
    sa.sa_handler = forward_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < std::size(kSignals); ++i) ::sigaction(kSignals[i], &sa, &old_[i]);
}

SignalForwarder::~SignalForwarder() {
    if (!enabled_) return;
    g_forward_to.store(0);
    for (size_t i = 0; i < std::size(kSignals); ++i) ::sigaction(kSignals[i], &old_[i], nullptr);
}

void SignalForwarder::target(pid_t pid) {
    if (enabled_) g_forward_to.store(pid);
}

}  // namespace bock::runtime
