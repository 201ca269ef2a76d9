// The helper's main thread: one poll(2) loop that drives libslirp (its
// sockets and timers), the TAP fd and the helper's own fds (exit fd, pidfd,
// API socket, DNS forwarder). No glib main loop: one thread, one poll.
#pragma once

#include <poll.h>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/common/fd.hpp"
#include "bock/netns/options.hpp"

typedef struct Slirp Slirp;  // libslirp

namespace bock::netns {

struct SlirpSettings {
    unsigned mtu = 65520;
    bool ipv6 = true;
    bool allow_host_loopback = false;
    bool intercept_dns = false;  // 10.0.2.3:53/udp is answered by the DNS forwarder
};

class DnsForwarder;

class EventLoop {
public:
    using Handler = std::function<void(short revents)>;

    // Creates the slirp instance; the (non-blocking) TAP fd comes with
    // set_tap() before run(), so that both can be made side by side.
    static Result<std::unique_ptr<EventLoop>> create(const SlirpSettings& s);
    void set_tap(Fd tap) { tap_ = std::move(tap); }
    ~EventLoop();

    // Watches fd for events until unwatch(fd); the handler runs on the loop.
    void watch(int fd, short events, Handler h);
    void unwatch(int fd);
    // Runs handler once, `ms` milliseconds from now.
    void after(int ms, std::function<void()> handler);
    void set_dns_forwarder(DnsForwarder* f) { dns_ = f; }

    // Runs until stop(); an error only if poll itself fails.
    Result<void> run();
    void stop() { running_ = false; }

    // slirp callbacks (public for the C trampolines).
    struct Timer;
    ssize_t send_packet(const void* buf, size_t len);
    // Sends a whole Ethernet frame to the container (the DNS forwarder's replies).
    void send_to_guest(const void* buf, size_t len) { send_packet(buf, len); }
    Timer* timer_new(void (*cb)(void*), void* opaque, int id, bool slirp_id);
    void timer_free(Timer* t);
    void timer_mod(Timer* t, int64_t expire_ms);
    int add_poll(int fd, int events);
    int get_revents(int idx);

private:
    EventLoop() = default;
    void read_tap();
    int next_timeout_ms(uint32_t slirp_timeout);
    void run_timers();

    struct Watch {
        int fd;
        short events;
        Handler handler;
        bool removed = false;
    };
    struct Deferred {
        int64_t at_ms;
        std::function<void()> handler;
    };

    Fd tap_;
    ::Slirp* slirp_ = nullptr;
    unsigned mtu_ = 65520;
    bool intercept_dns_ = false;
    DnsForwarder* dns_ = nullptr;
    std::vector<std::unique_ptr<Watch>> watches_;
    std::vector<std::unique_ptr<Timer>> timers_;
    std::vector<Deferred> deferred_;
    std::vector<::pollfd> pfds_;
    size_t slirp_first_ = 0;  // index of slirp's first pollfd in pfds_
    // Not zero-filled: only the pages a frame reaches become resident (an
    // idle helper's memory is paid per container).
    std::unique_ptr<uint8_t[]> frame_;
    size_t frame_size_ = 0;
    bool running_ = true;
};

int64_t now_ms();

}  // namespace bock::netns
