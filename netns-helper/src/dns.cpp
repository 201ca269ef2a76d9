#include "dns.hpp"

#include <arpa/inet.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>

#include "bock/common/log.hpp"
#include "event_loop.hpp"

namespace bock::netns {

namespace {

constexpr size_t kEth = 14;
constexpr int kQueryTimeoutMs = 5000;
constexpr size_t kMaxPending = 256;  // queries in flight; more are dropped (the client retries)

uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
void put16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}

uint16_t ip_checksum(const uint8_t* p, size_t len) {
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2) sum += get16(p + i);
    if (len & 1) sum += static_cast<uint32_t>(p[len - 1]) << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

}  // namespace

std::optional<DnsQueryFrame> match_dns_query(const uint8_t* f, size_t len, in_addr nameserver) {
    if (len < kEth + 20 + 8 || get16(f + 12) != 0x0800) return std::nullopt;
    const uint8_t* ip = f + kEth;
    size_t ihl = static_cast<size_t>(ip[0] & 0x0f) * 4;
    if ((ip[0] >> 4) != 4 || ihl < 20 || ip[9] != IPPROTO_UDP) return std::nullopt;
    if (std::memcmp(ip + 16, &nameserver, 4) != 0) return std::nullopt;
    if (get16(ip + 6) & 0x3fff) return std::nullopt;  // a fragment (MF set or an offset)
    size_t total = get16(ip + 2);
    if (total > len - kEth || total < ihl + 8) return std::nullopt;
    const uint8_t* udp = ip + ihl;
    if (get16(udp + 2) != 53) return std::nullopt;
    size_t ulen = get16(udp + 4);
    if (ulen < 8 || ulen > total - ihl) return std::nullopt;
    DnsQueryFrame q{};
    std::memcpy(q.origin.guest_mac, f + 6, 6);
    std::memcpy(q.origin.server_mac, f, 6);
    std::memcpy(&q.origin.guest_ip, ip + 12, 4);
    q.origin.guest_port = get16(udp);
    q.payload_offset = kEth + ihl + 8;
    q.payload_len = ulen - 8;
    return q;
}

std::vector<uint8_t> build_dns_reply(const DnsQueryOrigin& o, in_addr nameserver, const uint8_t* payload,
                                     size_t len) {
    std::vector<uint8_t> f(kEth + 20 + 8 + len);
    std::memcpy(f.data(), o.guest_mac, 6);
    std::memcpy(f.data() + 6, o.server_mac, 6);
    put16(f.data() + 12, 0x0800);
    uint8_t* ip = f.data() + kEth;
    ip[0] = 0x45;
    put16(ip + 2, static_cast<uint16_t>(20 + 8 + len));
    put16(ip + 6, 0x4000);  // don't fragment
    ip[8] = 64;
    ip[9] = IPPROTO_UDP;
    std::memcpy(ip + 12, &nameserver, 4);
    std::memcpy(ip + 16, &o.guest_ip, 4);
    put16(ip + 10, ip_checksum(ip, 20));
    uint8_t* udp = ip + 20;
    put16(udp, 53);
    put16(udp + 2, o.guest_port);
    put16(udp + 4, static_cast<uint16_t>(8 + len));
    // UDP checksum 0: "none", allowed over IPv4.
    std::memcpy(udp + 8, payload, len);
    return f;
}

struct DnsForwarder::Pending {
    Fd sock;
    DnsQueryOrigin origin;
    int64_t deadline_ms;
    bool done = false;
};

DnsForwarder::DnsForwarder(EventLoop& loop, HostAddr upstream) : loop_(loop), upstream_(upstream) {
    ::inet_pton(AF_INET, kNameserver4, &nameserver_);
}

DnsForwarder::~DnsForwarder() {
    for (auto& p : pending_) loop_.unwatch(p->sock.get());
}

bool DnsForwarder::intercept(const uint8_t* frame, size_t len) {
    auto q = match_dns_query(frame, len, nameserver_);
    if (!q) return false;
    if (pending_.size() >= kMaxPending) return true;
    // One connected socket per query: the answer's source is checked by the
    // kernel, and its port is the query's own.
    int s = ::socket(upstream_.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0) {
        log::warn("dns: socket: {}", std::strerror(errno));
        return true;
    }
    auto p = std::make_unique<Pending>(Pending{Fd(s), q->origin, now_ms() + kQueryTimeoutMs});
    sockaddr_storage ss{};
    socklen_t sl;
    if (upstream_.family == AF_INET) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
        sin->sin_family = AF_INET;
        sin->sin_addr = upstream_.v4;
        sin->sin_port = htons(upstream_.port);
        sl = sizeof *sin;
    } else {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
        sin6->sin6_family = AF_INET6;
        sin6->sin6_addr = upstream_.v6;
        sin6->sin6_port = htons(upstream_.port);
        sl = sizeof *sin6;
    }
    if (::connect(s, reinterpret_cast<sockaddr*>(&ss), sl) < 0 ||
        ::send(s, frame + q->payload_offset, q->payload_len, 0) < 0) {
        log::debug("dns: send to {}: {}", upstream_.to_string(), std::strerror(errno));
        return true;
    }
    Pending* raw = p.get();
    loop_.watch(s, POLLIN, [this, raw](short) { answer(raw); });
    pending_.push_back(std::move(p));
    if (!expiry_armed_) {
        expiry_armed_ = true;
        loop_.after(1000, [this] { expire(); });
    }
    return true;
}

void DnsForwarder::answer(Pending* p) {
    uint8_t buf[65536];
    ssize_t n = ::recv(p->sock.get(), buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n > 0) {
        auto f = build_dns_reply(p->origin, nameserver_, buf, static_cast<size_t>(n));
        loop_.send_to_guest(f.data(), f.size());
    }
    loop_.unwatch(p->sock.get());
    p->done = true;
    std::erase_if(pending_, [p](const auto& q) { return q.get() == p; });
}

void DnsForwarder::expire() {
    int64_t now = now_ms();
    std::erase_if(pending_, [&](const auto& p) {
        if (p->deadline_ms > now) return false;
        loop_.unwatch(p->sock.get());
        return true;
    });
    expiry_armed_ = !pending_.empty();
    if (expiry_armed_) loop_.after(1000, [this] { expire(); });
}

}  // namespace bock::netns
