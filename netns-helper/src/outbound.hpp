// The fast path for the container's TCP connections to the host's loopback
// (10.0.2.2 with --allow-host-loopback): instead of libslirp's TCP stack,
// an nftables rule in the container's namespace redirects them to a
// listener on the namespace's 127.0.0.1, and a Forwarder in the host's
// namespace connects to the host's 127.0.0.1 at the original port
// (SO_ORIGINAL_DST) and splices, as for published ports.
//
// The rule lives in the container's own namespace (table `ip bock_netns`):
// a root in the container can see or delete it, which only sends its
// connections back through libslirp. Without `nft` the path stays libslirp.
#pragma once

#include "bock/common/error.hpp"
#include "bock/common/fd.hpp"
#include "bock/common/pid.hpp"

namespace bock::netns {

struct OutboundRedirect {
    Fd listener;
    Pid nft;  // still running: the helper does not wait for it before ready
};

// Runs in the container's namespace (the TAP thread), before the sandbox:
// the listening socket, and `nft` started to install the redirect rule for
// it. Until nft is done, connections keep going through libslirp.
Result<OutboundRedirect> setup_outbound_redirect();

}  // namespace bock::netns
