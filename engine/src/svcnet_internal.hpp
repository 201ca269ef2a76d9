// Service networks inside the engine: the records under their lock, address
// allocation, and the data plane (svcnet_link.cpp) that run.cpp's
// ContainerNetwork drives.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/common/lock.hpp"
#include "bock/common/netlink.hpp"
#include "bock/engine/context.hpp"
#include "bock/engine/network.hpp"
#include "bock/engine/svcnet.hpp"

namespace bock::engine::svcnet {

std::string networks_dir(const Context& ctx);  // <store>/networks
// <run_root>/svcnet: the namespace file, hosts files, responder state.
std::string runtime_dir(const Context& ctx);
std::string hosts_file(const Context& ctx, const std::string& network);

// The exclusive lock on every network record (allocation is read-modify-write).
Result<FileLock> lock(const Context& ctx);
// Under the lock: every record; endpoints whose container record is gone
// (a removal or a run killed half-way) are dropped and the record saved.
Result<std::vector<ServiceNetwork>> load_all_locked(const Context& ctx);
// Atomic replace (temp + fsync + rename), then the responder's hosts file.
Result<void> save(const Context& ctx, const ServiceNetwork& n);
Result<void> write_hosts(const Context& ctx, const ServiceNetwork& n);
bool valid_name(const std::string& name);

struct Attach {
    std::string network;
    std::vector<std::string> aliases;
    std::string ip;  // --ip, empty: allocated
};

// Under the lock: an endpoint for the container on each network (names
// and aliases unique on the network, addresses from the subnet); returns
// the networks as saved.
Result<std::vector<ServiceNetwork>> allocate(const Context& ctx, const std::string& container_id,
                                             const std::string& container_name, const std::vector<Attach>& attach);

// IPv4 helpers.
struct Cidr {
    uint32_t base = 0;  // host order
    int prefix = 0;
};
std::optional<Cidr> parse_cidr(const std::string& s);
// Do the two share an address?
bool overlap(const Cidr& a, const Cidr& b);
std::optional<uint32_t> parse_v4(const std::string& s);
std::string v4_text(uint32_t a);
// The IPv6 address on the network for an IPv4 one (the same host part).
std::string v6_for(const ServiceNetwork& n, const std::string& ipv4);

// An address on link `index` (svcnet_link.cpp).
Result<void> add_v4(bock::Netlink& nl, int index, const std::string& ip, int prefix);
Result<void> add_v6(bock::Netlink& nl, int index, const std::string& ip, int prefix);

// --- root in the host's network namespace (svcnet_host.cpp) ---

// Real root (not in a user namespace): the bridges are the host's.
bool host_mode(const Context& ctx);
// The host-wide lock (/run/lock/bock-net.lock) under which every run root
// claims bridge names and subnets and changes `table inet bock`; taken
// after a store's network lock, never before it.
Result<FileLock> host_lock();
// What on the host overlaps `c` ("the route 10.0.0.0/8 on eth0"); empty: nothing.
std::string host_overlap(const Cidr& c);
bool host_link_exists(const std::string& name);
// Under host_lock: the network's bridge on the host (made, marked as this
// store's with its ifalias, with the gateway's address, up), IPv4
// forwarding on, and its chains in `table inet bock`. Idempotent.
Result<void> host_bridge_up(const Context& ctx, const ServiceNetwork& n);
// Under host_lock: its chains and jumps (the table when no network's chain
// is left), and the bridge if it is this network's.
Result<void> host_bridge_down(const Context& ctx, const ServiceNetwork& n);
// Under host_lock: bridges marked as this store's whose record is gone (a
// `network create` or `rm` killed half-way), with their chains.
void host_collect(const Context& ctx, const std::vector<ServiceNetwork>& records);
// Under host_lock: the container's published ports that DNAT can serve
// (IPv4, not loopback) as `dnat to` rules in its chain `ctr-<id 12>`,
// jumped to from `prerouting` (replacing what it had); false: none to add.
Result<bool> host_dnat_add(const std::string& container_id, const std::string& ipv4,
                           const std::vector<PortMapping>& ports);
Result<void> host_dnat_remove(const std::string& container_id);

// --- the data plane (svcnet_link.cpp) ---

// Makes sure the network's bridge exists in the private network namespace
// (made on first use, bind-mounted at <runtime_dir>/netns; as real root:
// on the host, host_bridge_up) with the gateway's address, and its DNS
// responder runs.
Result<void> ensure_up(const Context& ctx, const ServiceNetwork& n, const std::string& dns_upstream);
// A veth pair from the network's bridge to the container's namespace
// (eth<index> there, with its address; index 0 gets the default route).
Result<void> plug(const Context& ctx, const ServiceNetwork& n, const Endpoint& ep, pid_t container_pid, int index);
// The bridge-side name of a container's veth on network n:
// bk<id 8><the bridge's number>, under IFNAMSIZ.
std::string link_name(const std::string& container_id, const ServiceNetwork& n);
// The first eth<N> free in the container's network namespace (a network
// connected to a running container).
Result<int> free_inside_index(pid_t container_pid);
// Deletes the container's veth pair on network n (a running container
// disconnected); none there is not an error.
Result<void> unplug(const Context& ctx, const ServiceNetwork& n, const std::string& container_id);
// The responder and its files (started again by ensure_up).
Result<void> stop_responder(const Context& ctx, const ServiceNetwork& n);
// The bridge, the responder and its files. The namespace stays.
Result<void> take_down(const Context& ctx, const ServiceNetwork& n);
// Published ports (-p) of a container on a service network: forwards in
// the outbound bock-netns from the host to `ipv4` (its address on its first
// network), owned by the container's id and removed by the helper when
// `container_pid` exits. On error nothing of them is left.
Result<void> publish(const Context& ctx, const std::string& container_id, pid_t container_pid,
                     const std::string& ipv4, const std::vector<PortMapping>& ports);
// Removes them now (best effort: no helper, nothing to remove).
void unpublish(const Context& ctx, const std::string& container_id);
// The bock-netns giving the networks their way out, when no network is left.
Result<void> stop_outbound(const Context& ctx);
// The private namespace itself (its bind mount), when no network is left.
Result<void> remove_namespace(const Context& ctx);
// nft: from PATH, else /usr/sbin or /sbin (root's PATH without sbin, as
// `su` or a cron job gives); "nft" when absent (its error names it).
std::string nft_program();
// Is the responder of this network running?
std::optional<pid_t> responder_pid(const Context& ctx, const std::string& network);

}  // namespace bock::engine::svcnet
