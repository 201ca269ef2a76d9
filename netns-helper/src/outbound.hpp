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

#include <memory>

#include "bock/common/error.hpp"
#include "bock/common/fd.hpp"
#include "bock/common/pid.hpp"

namespace bock::netns {

// What the nft child uses until it execs: it shares the helper's memory
// (CLONE_VM), so this outlives it (outbound.cpp).
struct NftChildMemory;
struct NftChildMemoryDeleter {
    void operator()(NftChildMemory* m) const;
};

struct OutboundRedirect {
    // Declared first, destroyed last: after `nft` is killed and reaped.
    std::unique_ptr<NftChildMemory, NftChildMemoryDeleter> child_memory;
    Fd listener;
    Pid nft;  // waits for go() before it runs
    Fd go_fd;
    // Lets nft run. Called after ready: nft's few milliseconds of CPU are
    // not spent while the container waits for the helper; connections made
    // before the rule is in go through libslirp.
    void go();
};

// Runs in the container's namespace (the TAP thread), before the sandbox:
// the listening socket, and a child (cloned here, so it keeps this
// namespace, the capabilities and the full file system) that execs `nft`
// to install the redirect rule once go() is called, or exits if the
// helper dies first. The child shares the helper's memory until it execs
// (CLONE_VM, as posix_spawn does): a fork's copy of the page tables, and
// the copy-on-write fault of every page the helper then wrote before nft
// ran, were on the start path.
Result<OutboundRedirect> setup_outbound_redirect();

}  // namespace bock::netns
