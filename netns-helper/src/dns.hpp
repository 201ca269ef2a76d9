// --dns-upstream: DNS queries the container sends to slirp's forwarder
// (10.0.2.3, UDP port 53) are taken off the TAP before slirp sees them and
// sent from the host to the chosen resolver; its answers are written back
// to the TAP as if 10.0.2.3 had sent them. libslirp itself can only forward
// to the resolvers in the host's /etc/resolv.conf.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/common/fd.hpp"
#include "bock/netns/options.hpp"

namespace bock::netns {

inline constexpr const char* kNameserver4 = "10.0.2.3";

// Where a query came from, to address the answer.
struct DnsQueryOrigin {
    uint8_t guest_mac[6];
    uint8_t server_mac[6];
    in_addr guest_ip;
    uint16_t guest_port;  // host byte order
};

// An Ethernet + IPv4 + UDP frame to nameserver:53, unfragmented: its origin
// and the offset and length of the DNS message in it.
struct DnsQueryFrame {
    DnsQueryOrigin origin;
    size_t payload_offset;
    size_t payload_len;
};
std::optional<DnsQueryFrame> match_dns_query(const uint8_t* frame, size_t len, in_addr nameserver);
// The frame that carries `payload` from nameserver:53 back to the origin.
std::vector<uint8_t> build_dns_reply(const DnsQueryOrigin& o, in_addr nameserver, const uint8_t* payload,
                                     size_t len);

class EventLoop;

class DnsForwarder {
public:
    DnsForwarder(EventLoop& loop, HostAddr upstream);
    ~DnsForwarder();
    // True when the frame was a query to the forwarder (then it is handled).
    bool intercept(const uint8_t* frame, size_t len);

private:
    struct Pending;
    void answer(Pending* p);
    void expire();

    EventLoop& loop_;
    HostAddr upstream_;
    in_addr nameserver_{};
    std::vector<std::unique_ptr<Pending>> pending_;
    bool expiry_armed_ = false;
};

}  // namespace bock::netns
