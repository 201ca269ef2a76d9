#include "event_loop.hpp"

#include <arpa/inet.h>
#include <malloc.h>
#include <poll.h>
#include <time.h>

#include <algorithm>
#include <climits>

#include <libslirp.h>

#include "bock/common/log.hpp"
#include "dns.hpp"

namespace bock::netns {

int64_t now_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

struct EventLoop::Timer {
    void (*cb)(void*) = nullptr;  // slirp's callback (timer_new)
    void* opaque = nullptr;
    int id = 0;                   // SlirpTimerId (timer_new_opaque)
    bool slirp_id = false;
    int64_t expire_ms = -1;       // -1: not armed
};

namespace {

EventLoop* self(void* opaque) { return static_cast<EventLoop*>(opaque); }

ssize_t cb_send_packet(const void* buf, size_t len, void* opaque) { return self(opaque)->send_packet(buf, len); }
void cb_guest_error(const char* msg, void*) { log::debug("slirp: guest error: {}", msg); }
int64_t cb_clock_get_ns(void*) {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}
void* cb_timer_new(SlirpTimerCb cb, void* cb_opaque, void* opaque) {
    return self(opaque)->timer_new(cb, cb_opaque, 0, false);
}
void* cb_timer_new_opaque(SlirpTimerId id, void* cb_opaque, void* opaque) {
    return self(opaque)->timer_new(nullptr, cb_opaque, id, true);
}
void cb_timer_free(void* t, void* opaque) { self(opaque)->timer_free(static_cast<EventLoop::Timer*>(t)); }
void cb_timer_mod(void* t, int64_t expire_ms, void* opaque) {
    self(opaque)->timer_mod(static_cast<EventLoop::Timer*>(t), expire_ms);
}
void cb_register_poll_fd(int, void*) {}
void cb_unregister_poll_fd(int, void*) {}
void cb_notify(void*) {}
int cb_add_poll(int fd, int events, void* opaque) { return self(opaque)->add_poll(fd, events); }
int cb_get_revents(int idx, void* opaque) { return self(opaque)->get_revents(idx); }

const SlirpCb kCallbacks = {
    .send_packet = cb_send_packet,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_get_ns,
    .timer_new = cb_timer_new,
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_register_poll_fd,
    .unregister_poll_fd = cb_unregister_poll_fd,
    .notify = cb_notify,
    .init_completed = nullptr,
    .timer_new_opaque = cb_timer_new_opaque,
};

in_addr ip4(const char* s) {
    in_addr a{};
    ::inet_pton(AF_INET, s, &a);
    return a;
}
in6_addr ip6(const char* s) {
    in6_addr a{};
    ::inet_pton(AF_INET6, s, &a);
    return a;
}

// Packets read from the TAP per wakeup before slirp's sockets get a turn.
constexpr int kTapBatch = 64;

}  // namespace

Result<std::unique_ptr<EventLoop>> EventLoop::create(const SlirpSettings& s) {
    std::unique_ptr<EventLoop> loop(new EventLoop());
    loop->mtu_ = s.mtu;
    loop->intercept_dns_ = s.intercept_dns;
    loop->frame_size_ = s.mtu + 64;
    loop->frame_.reset(new uint8_t[loop->frame_size_]);

    SlirpConfig cfg{};
    cfg.version = 4;
    cfg.restricted = 0;
    cfg.in_enabled = true;
    cfg.vnetwork = ip4("10.0.2.0");
    cfg.vnetmask = ip4("255.255.255.0");
    cfg.vhost = ip4("10.0.2.2");
    cfg.in6_enabled = s.ipv6;
    cfg.vprefix_addr6 = ip6("fd00::");
    cfg.vprefix_len = 64;
    cfg.vhost6 = ip6("fd00::2");
    cfg.vdhcp_start = ip4("10.0.2.15");
    cfg.vnameserver = ip4(kNameserver4);
    cfg.vnameserver6 = ip6("fd00::3");
    cfg.if_mtu = s.mtu;
    cfg.if_mru = s.mtu;
    cfg.disable_host_loopback = !s.allow_host_loopback;
    // With --dns-upstream, libslirp forwards no DNS at all (fd00::3, TCP):
    // nothing may reach the host's resolvers behind the user's back.
    cfg.disable_dns = s.intercept_dns;
    loop->slirp_ = slirp_new(&cfg, &kCallbacks, loop.get());
    if (!loop->slirp_) return make_error("start slirp: slirp_new failed");
    return loop;
}

EventLoop::~EventLoop() {
    if (slirp_) slirp_cleanup(slirp_);
}

void EventLoop::watch(int fd, short events, Handler h) {
    watches_.push_back(std::make_unique<Watch>(Watch{fd, events, std::move(h)}));
}

void EventLoop::unwatch(int fd) {
    for (auto& w : watches_)
        if (w->fd == fd) w->removed = true;
}

void EventLoop::after(int ms, std::function<void()> handler) {
    deferred_.push_back(Deferred{now_ms() + ms, std::move(handler)});
}

ssize_t EventLoop::send_packet(const void* buf, size_t len) {
    for (;;) {
        ssize_t n = ::write(tap_.get(), buf, len);
        if (n >= 0 || errno != EINTR) break;
    }
    // A full TAP queue drops the frame, as a full NIC queue would; TCP
    // retransmits. slirp only wants to know the frame was taken.
    return static_cast<ssize_t>(len);
}

EventLoop::Timer* EventLoop::timer_new(void (*cb)(void*), void* opaque, int id, bool slirp_id) {
    auto t = std::make_unique<Timer>();
    t->cb = cb;
    t->opaque = opaque;
    t->id = id;
    t->slirp_id = slirp_id;
    timers_.push_back(std::move(t));
    return timers_.back().get();
}

void EventLoop::timer_free(Timer* t) {
    std::erase_if(timers_, [t](const auto& p) { return p.get() == t; });
}

void EventLoop::timer_mod(Timer* t, int64_t expire_ms) { t->expire_ms = expire_ms; }

int EventLoop::add_poll(int fd, int events) {
    short e = 0;
    if (events & SLIRP_POLL_IN) e |= POLLIN;
    if (events & SLIRP_POLL_OUT) e |= POLLOUT;
    if (events & SLIRP_POLL_PRI) e |= POLLPRI;
    pfds_.push_back(pollfd{fd, e, 0});
    return static_cast<int>(pfds_.size() - 1 - slirp_first_);
}

int EventLoop::get_revents(int idx) {
    short r = pfds_[slirp_first_ + static_cast<size_t>(idx)].revents;
    int e = 0;
    if (r & POLLIN) e |= SLIRP_POLL_IN;
    if (r & POLLOUT) e |= SLIRP_POLL_OUT;
    if (r & POLLPRI) e |= SLIRP_POLL_PRI;
    if (r & POLLERR) e |= SLIRP_POLL_ERR;
    if (r & POLLHUP) e |= SLIRP_POLL_HUP;
    return e;
}

void EventLoop::read_tap() {
    for (int i = 0; i < kTapBatch; ++i) {
        ssize_t n = ::read(tap_.get(), frame_.get(), frame_size_);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            return;  // EAGAIN: drained
        }
        if (intercept_dns_ && dns_ && dns_->intercept(frame_.get(), static_cast<size_t>(n))) continue;
        slirp_input(slirp_, frame_.get(), static_cast<int>(n));
    }
}

int EventLoop::next_timeout_ms(uint32_t slirp_timeout) {
    int64_t now = now_ms();
    int64_t t = slirp_timeout == UINT32_MAX ? INT_MAX : slirp_timeout;
    for (auto& timer : timers_)
        if (timer->expire_ms >= 0) t = std::min(t, std::max<int64_t>(0, timer->expire_ms - now));
    for (auto& d : deferred_) t = std::min(t, std::max<int64_t>(0, d.at_ms - now));
    if (t == INT_MAX) return -1;
    return static_cast<int>(t);
}

void EventLoop::run_timers() {
    int64_t now = now_ms();
    // Collect first: a callback may free or re-arm timers.
    std::vector<Timer*> due;
    for (auto& t : timers_)
        if (t->expire_ms >= 0 && t->expire_ms <= now) due.push_back(t.get());
    for (Timer* t : due) {
        if (std::none_of(timers_.begin(), timers_.end(), [t](const auto& p) { return p.get() == t; }))
            continue;
        t->expire_ms = -1;
        if (t->slirp_id)
            slirp_handle_timer(slirp_, static_cast<SlirpTimerId>(t->id), t->opaque);
        else
            t->cb(t->opaque);
    }
    std::vector<Deferred> ready;
    for (auto it = deferred_.begin(); it != deferred_.end();) {
        if (it->at_ms <= now) {
            ready.push_back(std::move(*it));
            it = deferred_.erase(it);
        } else {
            ++it;
        }
    }
    for (auto& d : ready) d.handler();
}

Result<void> EventLoop::run() {
    // What setup allocated and freed goes back to the kernel before the
    // helper idles for the container's lifetime.
    ::malloc_trim(0);
    while (running_) {
        std::erase_if(watches_, [](const auto& w) { return w->removed; });
        pfds_.clear();
        pfds_.push_back(pollfd{tap_.get(), POLLIN, 0});
        size_t nwatches = watches_.size();
        for (auto& w : watches_) pfds_.push_back(pollfd{w->fd, w->events, 0});
        slirp_first_ = pfds_.size();
        uint32_t slirp_timeout = UINT32_MAX;
        slirp_pollfds_fill(slirp_, &slirp_timeout, cb_add_poll, this);
        int timeout = next_timeout_ms(slirp_timeout);

        int n = ::poll(pfds_.data(), pfds_.size(), timeout);
        if (n < 0 && errno != EINTR) return errno_error("poll");
        slirp_pollfds_poll(slirp_, n < 0, cb_get_revents, this);
        if (n > 0 && pfds_[0].revents) read_tap();
        for (size_t i = 0; i < nwatches && running_; ++i) {
            short r = pfds_[1 + i].revents;
            auto& w = watches_[i];
            if (r && !w->removed) w->handler(r);
        }
        run_timers();
    }
    return ok();
}

}  // namespace bock::netns
