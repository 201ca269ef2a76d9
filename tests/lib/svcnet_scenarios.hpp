// End-to-end checks of service networks (`bock network ...`, `bock run
// --network NAME`, docs/networking.md "Service networks"), run by
// tests/rootless/svcnet_test.cpp. Each expects an empty store.
#pragma once

namespace bock::test {

// create (defaults, --subnet, --internal, --label, bad input), ls, ls
// --format json, inspect, rm, prune, connect/disconnect of a stopped
// container, --ip and names taken.
void check_network_records();
// Two containers on one network reach each other by name and alias, one
// started later resolves for the first; other names go to the test's
// resolver on 127.0.0.1; another network cannot reach them; rm of a
// network in use is refused; after rm -f and network rm no link, bridge or
// responder is left.
void check_network_traffic();
// Detached containers (run -d, create + start) on a network reach each
// other by name (bock exec); a restart keeps the address and plugs the new
// namespace; rm -f leaves no veth.
void check_network_detached();
// Published ports (-p 127.0.0.1:P:80, [::1]) of a busybox httpd on a
// network, fetched on the host's loopback; bock port and ps; a port in use
// refused leaving nothing; a detached one through stop/start; rm -f frees
// them; -p on an --internal network refused.
void check_network_ports();

}  // namespace bock::test
