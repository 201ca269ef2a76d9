#include "forwarder.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <linux/netfilter_ipv4.h>

#include <cstring>
#include <optional>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bock/common/log.hpp"
#include "bock/common/sys.hpp"
#include "sandbox.hpp"

namespace bock::netns {

namespace {

constexpr int kAcceptBatch = 32;        // per listener wakeup: a flood on one port cannot starve another
constexpr size_t kPumpBudget = 1 << 20; // bytes per direction per turn before other connections run
constexpr int kPipeSize = 1 << 20;
constexpr size_t kPipePool = 32;
constexpr int kUdpBatch = 64;
constexpr int64_t kUdpIdleMs = 60000;
constexpr int kPauseMs = 100;           // a listener rests this long after EMFILE

int64_t mono_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

enum class Kind { command, tcp_listener, udp_listener, conn_client, conn_inside, udp_flow };

struct Tag {
    Kind kind;
    void* owner;
};

struct Pipe {
    Fd r, w;
    size_t used = 0;
};

struct Listener;

struct Conn {
    Tag client_tag{Kind::conn_client, this};
    Tag inside_tag{Kind::conn_inside, this};
    Fd client, inside;
    Pipe up, down;  // client -> inside, inside -> client
    bool connecting = true;
    bool up_eof = false, up_shut = false, down_eof = false, down_shut = false;
    bool dead = false, queued = false;
    uint16_t port = 0;
};

struct UdpFlow {
    Tag tag{Kind::udp_flow, this};
    Fd inside;
    sockaddr_storage peer{};
    socklen_t peer_len = 0;
    Listener* listener = nullptr;
    int64_t last_ms = 0;
};

struct Listener {
    Tag tag;
    int id = 0;
    Forward f;
    Fd fd;
    Forwarder::Target target = Forwarder::Target::container_loopback;
    bool paused = false;
    bool removed = false;
    int64_t resume_ms = 0;
    std::map<std::string, std::unique_ptr<UdpFlow>> flows;  // by the peer's address bytes
};

struct Command {
    enum { add, remove } op;
    int id;
    Forward f;
    Fd fd;
    Forwarder::Target target;
};

bool is_loopback(const sockaddr_storage& ss) {
    if (ss.ss_family == AF_INET) {
        auto* s = reinterpret_cast<const sockaddr_in*>(&ss);
        return (ntohl(s->sin_addr.s_addr) >> 24) == 127;
    }
    if (ss.ss_family == AF_INET6) {
        auto* s = reinterpret_cast<const sockaddr_in6*>(&ss);
        return IN6_IS_ADDR_LOOPBACK(&s->sin6_addr);
    }
    return false;
}

socklen_t sockaddr_len(int family) { return family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6); }

// The container's loopback at `port`, in the family of the client.
sockaddr_storage inside_target(int family, uint16_t port) {
    sockaddr_storage ss{};
    if (family == AF_INET) {
        auto* s = reinterpret_cast<sockaddr_in*>(&ss);
        s->sin_family = AF_INET;
        s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        s->sin_port = htons(port);
    } else {
        auto* s = reinterpret_cast<sockaddr_in6*>(&ss);
        s->sin6_family = AF_INET6;
        s->sin6_addr = in6addr_loopback;
        s->sin6_port = htons(port);
    }
    return ss;
}

// A forward's inside address: its `target` (a service network's container)
// if it has one, else the loopback in the client's family.
sockaddr_storage forward_target(const Forward& f, int client_family) {
    if (!f.target) return inside_target(client_family, f.container_port);
    sockaddr_storage ss = inside_target(f.target->family, f.container_port);
    if (f.target->family == AF_INET)
        reinterpret_cast<sockaddr_in*>(&ss)->sin_addr = f.target->v4;
    else
        reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr = f.target->v6;
    return ss;
}

// A socket in this thread's namespace connecting to `target`; bound to the
// client's own address (and port, when free) if `source` is given and is a
// loopback address. Other clients get the kernel's choice: the container
// sees them as 127.0.0.1 (::1).
Result<Fd> open_peer(int type, const sockaddr_storage& target, const sockaddr_storage* source) {
    int family = target.ss_family;
    int s = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0) return errno_error("socket");
    Fd fd(s);
    if (source && source->ss_family == family && is_loopback(*source)) {
        if (::bind(s, reinterpret_cast<const sockaddr*>(source), sockaddr_len(family)) < 0) {
            sockaddr_storage any_port = *source;
            if (family == AF_INET)
                reinterpret_cast<sockaddr_in*>(&any_port)->sin_port = 0;
            else
                reinterpret_cast<sockaddr_in6*>(&any_port)->sin6_port = 0;
            if (::bind(s, reinterpret_cast<sockaddr*>(&any_port), sockaddr_len(family)) < 0)
                return errno_error("bind the client's address");
        }
    }
    if (type == SOCK_STREAM) {
        int one = 1;
        ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    if (::connect(s, reinterpret_cast<const sockaddr*>(&target), sockaddr_len(family)) < 0 && errno != EINPROGRESS)
        return errno_error("connect");
    return fd;
}

// Where an accepted connection goes: the container's loopback, or (for the
// outbound listener) the host's 127.0.0.1 at the port the container asked
// for on the gateway. nullopt: not a connection to forward.
std::optional<sockaddr_storage> target_of(Forwarder::Target t, int client, const sockaddr_storage& peer,
                                          uint16_t container_port) {
    if (t == Forwarder::Target::container_loopback) return inside_target(peer.ss_family, container_port);
    sockaddr_storage orig{};
    socklen_t len = sizeof(sockaddr_in);
    if (::getsockopt(client, SOL_IP, SO_ORIGINAL_DST, &orig, &len) < 0) return std::nullopt;
    auto* o = reinterpret_cast<sockaddr_in*>(&orig);
    in_addr gw{};
    ::inet_pton(AF_INET, "10.0.2.2", &gw);
    if (o->sin_addr.s_addr != gw.s_addr) return std::nullopt;  // not redirected: refuse
    return inside_target(AF_INET, ntohs(o->sin_port));
}

}  // namespace

struct Forwarder::Impl {
    Fd epoll, event;
    std::thread thread;
    std::mutex mu;
    std::vector<Command> queue;
    bool stopping = false;

    Tag command_tag{Kind::command, nullptr};
    std::map<int, std::unique_ptr<Listener>> listeners;
    std::unordered_map<Conn*, std::unique_ptr<Conn>> conns;
    std::vector<Conn*> ready, graveyard;
    std::vector<std::unique_ptr<Listener>> removed_listeners;  // freed after the batch
    std::vector<Pipe> pipe_pool;
    int64_t next_housekeeping = 0;

    // --- the thread ---
    std::promise<Result<void>> started;
    std::future<Result<void>> started_future;
    void run(int netns_fd, int handoff_fd);
    Result<void> enter(int netns_fd);
    void loop();
    void take_commands();
    void add_listener(Command& c);
    void remove_listener(int id);
    void accept_tcp(Listener* l);
    void pause(Listener* l);
    void conn_event(Conn* c, bool inside_side, uint32_t events);
    void pump(Conn* c);
    bool move(int from, int to, Pipe& p, bool& eof, bool& shut, bool& more);
    void close_conn(Conn* c);
    Result<Pipe> take_pipe();
    void give_pipe(Pipe p);
    void udp_from_client(Listener* l);
    void udp_from_inside(UdpFlow* f);
    void housekeeping();

    void ctl(int op, int fd, uint32_t events, Tag* tag) {
        epoll_event ev{};
        ev.events = events;
        ev.data.ptr = tag;
        ::epoll_ctl(epoll.get(), op, fd, &ev);
    }
    void kick() {
        uint64_t one = 1;
        (void)!::write(event.get(), &one, sizeof one);
    }
};

Forwarder::Forwarder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<Forwarder>> Forwarder::launch(int netns_fd, int handoff_fd) {
    auto impl = std::make_unique<Impl>();
    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) return errno_error("epoll_create1");
    impl->epoll = Fd(ep);
    int ev = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ev < 0) return errno_error("eventfd");
    impl->event = Fd(ev);
    impl->ctl(EPOLL_CTL_ADD, ev, EPOLLIN, &impl->command_tag);
    impl->started_future = impl->started.get_future();
    Impl* raw = impl.get();
    impl->thread = std::thread([raw, netns_fd, handoff_fd] { raw->run(netns_fd, handoff_fd); });
    return std::unique_ptr<Forwarder>(new Forwarder(std::move(impl)));
}

Result<void> Forwarder::wait_started() {
    auto r = impl_->started_future.get();
    if (!r) {
        impl_->thread.join();
        return std::move(r).error().wrap("start the port forwarder");
    }
    return ok();
}

Result<std::unique_ptr<Forwarder>> Forwarder::start(int netns_fd) {
    auto fw = BOCK_TRY(launch(netns_fd));
    BOCK_TRY(fw->wait_started());
    return fw;
}

Forwarder::~Forwarder() {
    {
        std::lock_guard lock(impl_->mu);
        impl_->stopping = true;
    }
    impl_->kick();
    if (impl_->thread.joinable()) impl_->thread.join();
}

void Forwarder::add(int id, const Forward& f, Fd listener, Target target) {
    {
        std::lock_guard lock(impl_->mu);
        impl_->queue.push_back(Command{Command::add, id, f, std::move(listener), target});
    }
    impl_->kick();
}

void Forwarder::remove(int id) {
    {
        std::lock_guard lock(impl_->mu);
        impl_->queue.push_back(Command{Command::remove, id, {}, {}, {}});
    }
    impl_->kick();
}

void Forwarder::Impl::run(int netns_fd, int handoff_fd) {
    if (handoff_fd >= 0 &&
        sys::raw::read_all(handoff_fd, &netns_fd, sizeof netns_fd) != static_cast<int>(sizeof netns_fd)) {
        started.set_value(make_error("no network namespace was handed over"));
        return;
    }
    auto r = enter(netns_fd);
    bool ok = r.has_value();
    started.set_value(std::move(r));
    if (ok) loop();
}

Result<void> Forwarder::Impl::enter(int netns_fd) {
    if (netns_fd >= 0) BOCK_TRY_CTX(sys::setns(netns_fd, CLONE_NEWNET), "join the container's network namespace");
    // Capabilities and no_new_privs are per thread: this one locks itself.
    BOCK_TRY(drop_privileges());
    return ok();
}

void Forwarder::Impl::loop() {
    epoll_event evs[128];
    for (;;) {
        int timeout = !ready.empty() ? 0 : 1000;
        int n = ::epoll_wait(epoll.get(), evs, 128, timeout);
        if (n < 0 && errno != EINTR) {
            log::error("forwarder: epoll_wait: {}", std::strerror(errno));
            return;
        }
        for (int i = 0; i < n; ++i) {
            auto* tag = static_cast<Tag*>(evs[i].data.ptr);
            switch (tag->kind) {
            case Kind::command: {
                uint64_t v;
                (void)!::read(event.get(), &v, sizeof v);
                take_commands();
                {
                    std::lock_guard lock(mu);
                    if (stopping) return;
                }
                break;
            }
            case Kind::tcp_listener:
                if (auto* l = static_cast<Listener*>(tag->owner); !l->removed) accept_tcp(l);
                break;
            case Kind::udp_listener:
                if (auto* l = static_cast<Listener*>(tag->owner); !l->removed) udp_from_client(l);
                break;
            case Kind::udp_flow:
                if (auto* f = static_cast<UdpFlow*>(tag->owner); !f->listener->removed) udp_from_inside(f);
                break;
            case Kind::conn_client:
            case Kind::conn_inside:
                conn_event(static_cast<Conn*>(tag->owner), tag->kind == Kind::conn_inside, evs[i].events);
                break;
            }
            // A listener or flow removed in this batch is only freed by
            // commands/housekeeping, which run between batches.
        }
        std::vector<Conn*> turn;
        turn.swap(ready);
        for (Conn* c : turn) {
            c->queued = false;
            if (!c->dead) pump(c);
        }
        for (Conn* c : graveyard) conns.erase(c);
        graveyard.clear();
        removed_listeners.clear();
        if (mono_ms() >= next_housekeeping) housekeeping();
    }
}

void Forwarder::Impl::take_commands() {
    std::vector<Command> cmds;
    {
        std::lock_guard lock(mu);
        cmds.swap(queue);
    }
    for (auto& c : cmds) {
        if (c.op == Command::add)
            add_listener(c);
        else
            remove_listener(c.id);
    }
}

void Forwarder::Impl::add_listener(Command& c) {
    auto l = std::make_unique<Listener>();
    l->id = c.id;
    l->f = c.f;
    l->fd = std::move(c.fd);
    l->target = c.target;
    l->tag = Tag{c.f.proto == Proto::tcp ? Kind::tcp_listener : Kind::udp_listener, l.get()};
    ctl(EPOLL_CTL_ADD, l->fd.get(), EPOLLIN, &l->tag);
    listeners[c.id] = std::move(l);
}

void Forwarder::Impl::remove_listener(int id) {
    auto it = listeners.find(id);
    if (it == listeners.end()) return;
    // Open TCP connections stay; UDP flows belong to their listener. Freed
    // after the batch: later events of this batch may still point at it.
    it->second->removed = true;
    ctl(EPOLL_CTL_DEL, it->second->fd.get(), 0, nullptr);
    for (auto& [key, f] : it->second->flows) ctl(EPOLL_CTL_DEL, f->inside.get(), 0, nullptr);
    removed_listeners.push_back(std::move(it->second));
    listeners.erase(it);
}

void Forwarder::Impl::pause(Listener* l) {
    ctl(EPOLL_CTL_DEL, l->fd.get(), 0, nullptr);
    l->paused = true;
    l->resume_ms = mono_ms() + kPauseMs;
    next_housekeeping = std::min(next_housekeeping, l->resume_ms);
}

void Forwarder::Impl::accept_tcp(Listener* l) {
    for (int i = 0; i < kAcceptBatch; ++i) {
        sockaddr_storage peer{};
        socklen_t len = sizeof peer;
        int s = ::accept4(l->fd.get(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (s < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                log::warn("forward {}: accept: {}; pausing {} ms", l->f.host.to_string(), std::strerror(errno), kPauseMs);
                pause(l);
            }
            return;
        }
        Fd client(s);
        auto target = l->f.target ? std::optional<sockaddr_storage>(forward_target(l->f, peer.ss_family))
                                  : target_of(l->target, s, peer, l->f.container_port);
        if (!target) continue;
        // The client's own address only towards the loopback: it means nothing elsewhere.
        bool keep_source = l->target == Forwarder::Target::container_loopback && !l->f.target;
        auto inside = open_peer(SOCK_STREAM, *target, keep_source ? &peer : nullptr);
        if (!inside) {
            log::debug("forward {}: {}", l->f.host.to_string(), inside.error().to_string());
            if (inside.error().code() == EMFILE || inside.error().code() == ENFILE) pause(l);
            continue;  // the client sees its connection closed
        }
        int one = 1;
        ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        auto c = std::make_unique<Conn>();
        c->client = std::move(client);
        c->inside = std::move(*inside);
        c->port = ntohs(reinterpret_cast<sockaddr_in*>(&*target)->sin_port);  // same offset for sockaddr_in6
        uint32_t ev = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ctl(EPOLL_CTL_ADD, c->client.get(), ev, &c->client_tag);
        ctl(EPOLL_CTL_ADD, c->inside.get(), ev, &c->inside_tag);
        Conn* raw = c.get();
        conns.emplace(raw, std::move(c));
    }
}

void Forwarder::Impl::conn_event(Conn* c, bool inside_side, uint32_t events) {
    if (c->dead) return;
    if (c->connecting) {
        if (!inside_side || !(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(c->inside.get(), SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            log::debug("forward to port {}: {}", c->port, std::strerror(err));
            // The client was accepted already: a reset is the nearest to
            // the refusal it would have seen without the forwarder.
            linger lg{1, 0};
            ::setsockopt(c->client.get(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            close_conn(c);
            return;
        }
        c->connecting = false;
        auto up = take_pipe();
        auto down = up ? take_pipe() : Result<Pipe>(up.error());
        if (!up || !down) {
            log::warn("forward to container port {}: {}", c->port, (up ? down : up).error().to_string());
            close_conn(c);
            return;
        }
        c->up = std::move(*up);
        c->down = std::move(*down);
    }
    pump(c);
}

// Moves bytes from -> pipe -> to until one side would block, the budget is
// spent (then *more) or EOF (then to's write side is shut). False: reset.
bool Forwarder::Impl::move(int from, int to, Pipe& p, bool& eof, bool& shut, bool& more) {
    size_t budget = kPumpBudget;
    for (;;) {
        if (p.used > 0) {
            ssize_t n = ::splice(p.r.get(), nullptr, to, nullptr, p.used, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
            if (n < 0) {
                if (errno == EINTR) continue;
                return errno == EAGAIN;  // wait for EPOLLOUT on `to`
            }
            p.used -= static_cast<size_t>(n);
            continue;
        }
        if (eof) {
            if (!shut) {
                ::shutdown(to, SHUT_WR);
                shut = true;
            }
            return true;
        }
        if (budget == 0) {
            more = true;
            return true;
        }
        ssize_t n = ::splice(from, nullptr, p.w.get(), nullptr, kPipeSize, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
        if (n == 0) {
            eof = true;
            continue;
        }
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno == EAGAIN;
        }
        p.used += static_cast<size_t>(n);
        budget -= std::min(budget, static_cast<size_t>(n));
    }
}

void Forwarder::Impl::pump(Conn* c) {
    if (c->connecting) return;
    bool more = false;
    if (!move(c->client.get(), c->inside.get(), c->up, c->up_eof, c->up_shut, more) ||
        !move(c->inside.get(), c->client.get(), c->down, c->down_eof, c->down_shut, more)) {
        close_conn(c);
        return;
    }
    if (c->up_shut && c->down_shut) {
        close_conn(c);
        return;
    }
    if (more && !c->queued) {
        c->queued = true;
        ready.push_back(c);
    }
}

void Forwarder::Impl::close_conn(Conn* c) {
    if (c->dead) return;
    c->dead = true;
    c->client.reset();
    c->inside.reset();
    if (c->up.r && c->up.used == 0) give_pipe(std::move(c->up));
    if (c->down.r && c->down.used == 0) give_pipe(std::move(c->down));
    graveyard.push_back(c);
}

Result<Pipe> Forwarder::Impl::take_pipe() {
    if (!pipe_pool.empty()) {
        Pipe p = std::move(pipe_pool.back());
        pipe_pool.pop_back();
        return p;
    }
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) return errno_error("pipe2");
    Pipe p{Fd(fds[0]), Fd(fds[1]), 0};
    // Larger pipes, fewer splice calls; past the user's pipe quota the
    // kernel refuses and the default size stays.
    (void)::fcntl(fds[1], F_SETPIPE_SZ, kPipeSize);
    return p;
}

void Forwarder::Impl::give_pipe(Pipe p) {
    if (pipe_pool.size() < kPipePool) pipe_pool.push_back(std::move(p));
}

void Forwarder::Impl::udp_from_client(Listener* l) {
    static thread_local std::vector<uint8_t> buf(65536);
    for (int i = 0; i < kUdpBatch; ++i) {
        sockaddr_storage peer{};
        socklen_t len = sizeof peer;
        ssize_t n = ::recvfrom(l->fd.get(), buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&peer), &len);
        if (n < 0) return;
        std::string key(reinterpret_cast<const char*>(&peer), len);
        auto it = l->flows.find(key);
        if (it == l->flows.end()) {
            auto inside = open_peer(SOCK_DGRAM, forward_target(l->f, peer.ss_family), l->f.target ? nullptr : &peer);
            if (!inside) {
                log::debug("forward {}/udp: {}", l->f.host.to_string(), inside.error().to_string());
                continue;
            }
            auto f = std::make_unique<UdpFlow>();
            f->inside = std::move(*inside);
            f->peer = peer;
            f->peer_len = len;
            f->listener = l;
            ctl(EPOLL_CTL_ADD, f->inside.get(), EPOLLIN, &f->tag);
            it = l->flows.emplace(key, std::move(f)).first;
        }
        it->second->last_ms = mono_ms();
        (void)::send(it->second->inside.get(), buf.data(), static_cast<size_t>(n), 0);
    }
}

void Forwarder::Impl::udp_from_inside(UdpFlow* f) {
    static thread_local std::vector<uint8_t> buf(65536);
    for (int i = 0; i < kUdpBatch; ++i) {
        ssize_t n = ::recv(f->inside.get(), buf.data(), buf.size(), 0);
        if (n < 0) return;  // EAGAIN, or ECONNREFUSED from nothing listening inside
        f->last_ms = mono_ms();
        (void)::sendto(f->listener->fd.get(), buf.data(), static_cast<size_t>(n), 0,
                       reinterpret_cast<sockaddr*>(&f->peer), f->peer_len);
    }
}

void Forwarder::Impl::housekeeping() {
    int64_t now = mono_ms();
    next_housekeeping = now + 1000;
    for (auto& [id, l] : listeners) {
        if (l->paused && l->resume_ms <= now) {
            l->paused = false;
            ctl(EPOLL_CTL_ADD, l->fd.get(), EPOLLIN, &l->tag);
        } else if (l->paused) {
            next_housekeeping = std::min(next_housekeeping, l->resume_ms);
        }
        std::erase_if(l->flows, [now](const auto& kv) { return now - kv.second->last_ms > kUdpIdleMs; });
    }
}

}  // namespace bock::netns
