// A minimal rtnetlink client for configuring the container's side of the
// TAP link: link up + MTU, addresses (without duplicate address detection)
// and default routes. It works in the network namespace of the thread that
// opened it.
#pragma once

#include <netinet/in.h>

#include <string>

#include "bock/common/error.hpp"
#include "bock/common/fd.hpp"

namespace bock::netns {

class Netlink {
public:
    static Result<Netlink> open();

    Result<int> link_index(const std::string& name);
    Result<void> set_link_up(int index, unsigned mtu);  // mtu 0: unchanged
    // family AF_INET or AF_INET6; addr points at in_addr / in6_addr.
    Result<void> add_address(int index, int family, const void* addr, int prefix_len);
    Result<void> add_default_route(int index, int family, const void* gateway);

private:
    explicit Netlink(Fd fd) : fd_(std::move(fd)) {}
    // Sends one request and waits for its acknowledgement.
    Result<void> request(void* msg, size_t len, const char* what);

    Fd fd_;
    unsigned seq_ = 0;
};

}  // namespace bock::netns
