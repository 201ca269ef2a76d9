// A minimal rtnetlink client, the one wrapper of raw netlink in Bock:
// links up + MTU, addresses (IPv6 without duplicate address detection),
// default routes (bock-netns's TAP), bridges and veth pairs (the service
// networks, engine/src/svcnet_link.cpp). It works in the network namespace
// of the thread that opened it.
#pragma once

#include <netinet/in.h>

#include <string>

#include "bock/common/error.hpp"
#include "bock/common/fd.hpp"

namespace bock {

class Netlink {
public:
    static Result<Netlink> open();

    Result<int> link_index(const std::string& name);
    Result<void> set_link_up(int index, unsigned mtu);  // mtu 0: unchanged
    // family AF_INET or AF_INET6; addr points at in_addr / in6_addr.
    Result<void> add_address(int index, int family, const void* addr, int prefix_len);
    Result<void> add_default_route(int index, int family, const void* gateway);
    // A bridge NAME (EEXIST when it exists).
    Result<void> add_bridge(const std::string& name);
    // A veth pair: NAME here, PEER in the network namespace `peer_netns`
    // (an fd of it; -1: here too).
    Result<void> add_veth(const std::string& name, const std::string& peer, int peer_netns);
    // Enslaves link `index` to the bridge `master`.
    Result<void> set_master(int index, int master);
    Result<void> delete_link(int index);

private:
    explicit Netlink(Fd fd) : fd_(std::move(fd)) {}
    // Sends one request and waits for its acknowledgement.
    Result<void> request(void* msg, size_t len, const char* what);

    Fd fd_;
    unsigned seq_ = 0;
};

}  // namespace bock
