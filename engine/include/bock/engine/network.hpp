// A container's network for `bock run --network ...` (podman's spellings):
//   none                  a network namespace with loopback only
//   host                  the host's (the session's) network namespace
//   slirp4netns[:opts]    bock-netns (docs/netns-helper.md); opts:
//                         allow_host_loopback=true|false
//   container:NAME        another running container's network namespace
//   ns:PATH               the network namespace at PATH
// The rootless default is slirp4netns; as root the default is none until
// root bridges come (docs/networking.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/engine/containers.hpp"

namespace bock::engine {

struct NetworkMode {
    std::string kind;  // none | host | slirp4netns | container | ns
    std::string target;  // container:NAME's NAME, ns:PATH's PATH
    bool allow_host_loopback = false;
    // `--network bridge` as root: the service network `bock` (target), made
    // on first use (docs/networking.md, "Root: bridges on the host").
    bool make_default = false;
};

// Parses --network; the default when `typed` is empty.
Result<NetworkMode> parse_network(const std::string& typed, bool rootless);

// Parses -p [IP:][HOST:]CONTAINER[/tcp|udp], where HOST and CONTAINER may
// be ranges (8080-8081:80-81, the same length; 8000-8010:80, the first
// free port of the host's range); a missing HOST port is a free one picked
// now (for each port of a CONTAINER range).
Result<std::vector<PortMapping>> parse_publish(const std::string& typed);
// The form bock-netns --publish takes: [IP:]HOST:CONTAINER/PROTO.
std::string helper_publish_spec(const PortMapping& p);
// podman's `port` form: "80/tcp -> 127.0.0.1:8080".
std::string port_text(const PortMapping& p);

}  // namespace bock::engine
