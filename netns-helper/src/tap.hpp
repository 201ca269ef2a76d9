// The container's side of the link: a TAP device created and configured in
// the network namespace of the calling thread. Its fd is all the helper
// keeps; packets read from it go to slirp, slirp's go back to it.
#pragma once

#include <string>

#include "bock/common/error.hpp"
#include "bock/common/fd.hpp"

namespace bock::netns {

// The guest side of slirp's default network (docs/netns-helper.md).
inline constexpr const char* kGuestAddr4 = "10.0.2.100";
inline constexpr const char* kGateway4 = "10.0.2.2";
inline constexpr const char* kGuestAddr6 = "fd00::100";
inline constexpr const char* kGateway6 = "fd00::2";

struct TapConfig {
    std::string name = "tap0";
    unsigned mtu = 65520;
    bool ipv6 = true;
    bool ping_group_range = true;  // net.ipv4.ping_group_range = "0 2147483647"
};

// Creates the TAP device (non-blocking fd), brings lo and it up, adds the
// addresses and default routes. Must run in the target namespace.
Result<Fd> open_tap(const TapConfig& cfg);

}  // namespace bock::netns
