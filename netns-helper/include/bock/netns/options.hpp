// bock-netns's command line, parsed into one plain struct. The contract is
// written down in docs/netns-helper.md; `bock-netns --help` prints it.
#pragma once

#include <netinet/in.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bock/common/error.hpp"

namespace bock::netns {

enum class Proto { tcp, udp };
const char* proto_name(Proto p);

// A host socket address: IPv4 or IPv6, with a port.
struct HostAddr {
    int family = AF_INET;
    in_addr v4{};
    in6_addr v6{};
    uint16_t port = 0;

    std::string ip_string() const;      // "127.0.0.1", "::1"
    std::string to_string() const;      // "127.0.0.1:53", "[::1]:53"
};

// One published port: HOST_IP:HOST_PORT on the host to CONTAINER_PORT on
// the container's loopback (127.0.0.1 or ::1, the family of HOST_IP).
struct Forward {
    Proto proto = Proto::tcp;
    HostAddr host;             // port = the host port
    uint16_t container_port = 0;
    bool any_host_ip = false;  // no IP given: bound to 0.0.0.0
    // Set (the API's `container_ip`): connect to this address at
    // container_port instead of the loopback, from the kernel's choice of
    // source (a service network's container behind the session's helper).
    std::optional<HostAddr> target;
};

struct Options {
    // Target network namespace: by pid (also watched with a pidfd) or path.
    pid_t netns_pid = 0;
    // A unix socket on which the pid (decimal) comes later, after
    // everything that needs no namespace is prepared, with the fd of its
    // network namespace (SCM_RIGHTS): the engine starts the helper before
    // the container exists, and opens the namespace itself, as the
    // container's creator, before the container changes its ids (the
    // helper may not open /proc/PID/ns/net of a container in a user
    // namespace of its own then). A pid without an fd is refused.
    int netns_sock = -1;
    std::string netns_path;
    std::string userns_path;   // joined first, when given
    pid_t watch_pid = 0;       // the container's init; defaults to netns_pid

    int ready_fd = -1;
    int exit_fd = -1;
    std::string api_socket;

    std::string tap_name = "tap0";
    unsigned mtu = 65520;
    bool ipv6 = true;
    bool allow_host_loopback = false;
    std::optional<HostAddr> dns_upstream;  // default: the host's resolv.conf
    bool set_ping_group_range = true;
    // No TAP: only the published ports' forwarder, connecting from the
    // namespace joined (the service networks as real root, whose bridges
    // are the host's and whose way out is the host's routing).
    bool forward_only = false;
    bool sandbox = true;
    bool seccomp = true;
    std::vector<Forward> publish;
};

// "[IP:]HOSTPORT:CONTAINERPORT[/tcp|udp]"; an IPv6 IP is written in
// brackets: "[::1]:8080:80".
Result<Forward> parse_publish(std::string_view spec);
// "ADDR[:PORT]" (port 53 by default); "[v6]:PORT" or a bare v6 address.
Result<HostAddr> parse_host_addr(std::string_view spec, uint16_t default_port);
// Parses argv; an Error for anything unknown or missing. help is set for
// --help (nothing else is checked then).
Result<Options> parse_options(int argc, char** argv, bool& help);
const char* usage();

}  // namespace bock::netns
