#include <arpa/inet.h>

#include <cstring>

#include <catch2/catch.hpp>

#include "dns.hpp"

using namespace bock::netns;

namespace {

// An Ethernet + IPv4 + UDP frame from 10.0.2.100:40000 to ns:53.
std::vector<uint8_t> query_frame(const char* dst, uint16_t dport, const std::string& payload, uint16_t frag = 0) {
    std::vector<uint8_t> f(14 + 20 + 8 + payload.size());
    const uint8_t guest[6] = {2, 0, 0, 0, 0, 1}, server[6] = {0x52, 0x55, 10, 0, 2, 3};
    std::memcpy(f.data(), server, 6);
    std::memcpy(f.data() + 6, guest, 6);
    f[12] = 0x08;
    uint8_t* ip = f.data() + 14;
    ip[0] = 0x45;
    uint16_t total = static_cast<uint16_t>(20 + 8 + payload.size());
    ip[2] = static_cast<uint8_t>(total >> 8);
    ip[3] = static_cast<uint8_t>(total);
    ip[6] = static_cast<uint8_t>(frag >> 8);
    ip[7] = static_cast<uint8_t>(frag);
    ip[8] = 64;
    ip[9] = 17;
    ::inet_pton(AF_INET, "10.0.2.100", ip + 12);
    ::inet_pton(AF_INET, dst, ip + 16);
    uint8_t* udp = ip + 20;
    udp[0] = 40000 >> 8;
    udp[1] = 40000 & 0xff;
    udp[2] = static_cast<uint8_t>(dport >> 8);
    udp[3] = static_cast<uint8_t>(dport);
    uint16_t ulen = static_cast<uint16_t>(8 + payload.size());
    udp[4] = static_cast<uint8_t>(ulen >> 8);
    udp[5] = static_cast<uint8_t>(ulen);
    std::memcpy(udp + 8, payload.data(), payload.size());
    return f;
}

in_addr ns_addr() {
    in_addr a{};
    ::inet_pton(AF_INET, kNameserver4, &a);
    return a;
}

}  // namespace

TEST_CASE("DNS queries to the forwarder are recognised, others are not", "[netns]") {
    auto f = query_frame("10.0.2.3", 53, "query");
    auto q = match_dns_query(f.data(), f.size(), ns_addr());
    REQUIRE(q);
    CHECK(q->origin.guest_port == 40000);
    CHECK(q->payload_len == 5);
    CHECK(std::string(reinterpret_cast<const char*>(f.data() + q->payload_offset), q->payload_len) == "query");

    auto other_host = query_frame("10.0.2.2", 53, "query");
    CHECK_FALSE(match_dns_query(other_host.data(), other_host.size(), ns_addr()));
    auto other_port = query_frame("10.0.2.3", 5353, "query");
    CHECK_FALSE(match_dns_query(other_port.data(), other_port.size(), ns_addr()));
    auto fragment = query_frame("10.0.2.3", 53, "query", 0x2000);  // more fragments
    CHECK_FALSE(match_dns_query(fragment.data(), fragment.size(), ns_addr()));
    CHECK_FALSE(match_dns_query(f.data(), 30, ns_addr()));  // truncated
}

TEST_CASE("DNS answers are addressed back to the asker from 10.0.2.3:53", "[netns]") {
    auto f = query_frame("10.0.2.3", 53, "query");
    auto q = match_dns_query(f.data(), f.size(), ns_addr());
    REQUIRE(q);
    std::string answer = "the answer";
    auto r = build_dns_reply(q->origin, ns_addr(), reinterpret_cast<const uint8_t*>(answer.data()), answer.size());
    REQUIRE(r.size() == 14 + 20 + 8 + answer.size());
    CHECK(std::memcmp(r.data(), f.data() + 6, 6) == 0);  // to the guest's MAC
    CHECK(std::memcmp(r.data() + 6, f.data(), 6) == 0);  // from the server's
    const uint8_t* ip = r.data() + 14;
    CHECK(std::memcmp(ip + 12, f.data() + 14 + 16, 4) == 0);  // from 10.0.2.3
    CHECK(std::memcmp(ip + 16, f.data() + 14 + 12, 4) == 0);  // to the guest
    // The header checksum verifies: the one's-complement sum is 0xffff.
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2) sum += static_cast<uint32_t>(ip[i] << 8 | ip[i + 1]);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    CHECK(sum == 0xffff);
    const uint8_t* udp = ip + 20;
    CHECK((udp[0] << 8 | udp[1]) == 53);
    CHECK((udp[2] << 8 | udp[3]) == 40000);
    CHECK(std::string(reinterpret_cast<const char*>(udp + 8), answer.size()) == answer);
}
