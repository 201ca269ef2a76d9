// Service networks as real root, in the host's network namespace
// (docs/networking.md, "Root: bridges on the host"): a bridge per network
// on the host, claimed under one host-wide lock (a name that is no host
// link, a subnet that overlaps no host address or route), marked as this
// store's by its ifalias; and the network's chains in the one nftables
// table `inet bock` that every run root on the host shares, added and
// deleted per network (never the table rewritten whole).
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>

#include <cstring>
#include <set>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/netlink.hpp"
#include "bock/common/strings.hpp"
#include "bock/common/subprocess.hpp"
#include "svcnet_internal.hpp"

namespace bock::engine::svcnet {
namespace {

constexpr const char* kHostLock = "/run/lock/bock-net.lock";
constexpr const char* kTable = "inet bock";
// The table's base chains; every other chain belongs to one network.
const std::set<std::string> kBaseChains = {"forward", "postrouting", "input", "prerouting"};
constexpr const char* kBaseChainsText =
    "table inet bock {\n"
    "  chain forward { type filter hook forward priority filter; policy accept; }\n"
    "  chain postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
    "  chain input { type filter hook input priority filter; policy accept; }\n"
    "  chain prerouting { type nat hook prerouting priority dstnat; policy accept; }\n"
    "}\n";

std::string alias_path(const std::string& link) { return "/sys/class/net/" + link + "/ifalias"; }

// The mark on a bridge of this store's network: its id and the store.
std::string owner_alias(const Context& ctx, const ServiceNetwork& n) {
    return fmt::format("bock-net {} {}", n.id, networks_dir(ctx)).substr(0, 255);
}

std::string read_alias(const std::string& link) {
    auto a = fs::read_file(alias_path(link)).value_or("");
    while (!a.empty() && (a.back() == '\n' || a.back() == ' ')) a.pop_back();
    return a;
}

int prefix_of(uint32_t mask_host_order) {
    int p = 0;
    while (p < 32 && (mask_host_order & (uint32_t{1} << (31 - p)))) ++p;
    return p;
}

std::vector<std::string> host_links() { return fs::list_dir("/sys/class/net").value_or(std::vector<std::string>{}); }

}  // namespace

std::string nft_program() {
    if (auto p = find_program("nft")) return *p;
    return find_program("nft", "/usr/sbin:/sbin").value_or("nft");
}

namespace {

Result<std::string> nft(const std::string& script, const std::vector<std::string>& args = {"-f", "-"}) {
    SpawnOptions so;
    so.argv = {nft_program()};
    so.argv.insert(so.argv.end(), args.begin(), args.end());
    if (!script.empty()) so.stdin_data = script;
    so.capture_stdout = true;
    so.capture_stderr = true;
    auto r = BOCK_TRY_CTX(run_program(so), "run nft");
    if (r.exit_code != 0) {
        std::string err = r.err;
        while (!err.empty() && err.back() == '\n') err.pop_back();
        return make_error("nft: {}", err).with_hint("Debian's nftables package provides nft");
    }
    return r.out;
}

// The table's chains and rules (`nft -j`); empty when there is no table.
std::vector<nlohmann::json> table_items() {
    auto out = nft("", {"-j", "list", "table", "inet", "bock"});
    if (!out) return {};
    auto j = nlohmann::json::parse(*out, nullptr, false);
    if (j.is_discarded() || !j.contains("nftables")) return {};
    return j["nftables"].get<std::vector<nlohmann::json>>();
}

std::vector<std::string> chains_of(const std::string& bridge) {
    return {bridge + "-fwd", bridge + "-nat", bridge + "-in"};
}

// The commands deleting these chains and the base chains' jumps to them
// (by handle); the table too when no other chain is left.
std::string removal_script(const std::vector<nlohmann::json>& items, const std::vector<std::string>& ours) {
    auto is_ours = [&](const std::string& c) { return std::find(ours.begin(), ours.end(), c) != ours.end(); };
    std::string rules, chains;
    bool others = false;
    for (const auto& it : items) {
        if (it.contains("rule")) {
            const auto& r = it["rule"];
            std::string dump = r.value("expr", nlohmann::json::array()).dump();
            for (const auto& c : ours)
                if (dump.find("\"target\":\"" + c + "\"") != std::string::npos)
                    rules += fmt::format("delete rule {} {} handle {}\n", kTable, r.value("chain", ""),
                                         r.value("handle", 0));
        } else if (it.contains("chain")) {
            std::string name = it["chain"].value("name", "");
            if (is_ours(name)) chains += fmt::format("delete chain {} {}\n", kTable, name);
            else if (!kBaseChains.count(name)) others = true;
        }
    }
    std::string s = rules + chains;
    if (!others && !items.empty()) s += fmt::format("delete table {}\n", kTable);
    return s;
}

// The network's chains, jumped to from the base chains (policy accept:
// nothing else on the host changes). Only drops and returns in them, so
// that one network's chain never decides for another's:
//   forward: within the bridge accepted; into it only answers and
//            published ports (DNAT), nothing else from another bridge or
//            outside; out of an --internal one nothing;
//   postrouting: its subnet masqueraded when it leaves by another link
//            (not --internal);
//   input (--internal): from it only its gateway (DNS) on the host.
std::string add_script(const ServiceNetwork& n) {
    const std::string& b = n.bridge;
    std::string s = kBaseChainsText;
    s += fmt::format(
        "add chain {0} {1}-fwd\n"
        "add rule {0} {1}-fwd iifname \"{1}\" oifname \"{1}\" accept\n"
        "add rule {0} {1}-fwd oifname \"{1}\" ct state established,related return\n"
        "add rule {0} {1}-fwd oifname \"{1}\" ct status dnat return\n"
        "add rule {0} {1}-fwd oifname \"{1}\" drop\n",
        kTable, b);
    if (n.internal) s += fmt::format("add rule {0} {1}-fwd iifname \"{1}\" drop\n", kTable, b);
    s += fmt::format("add rule {0} forward iifname \"{1}\" jump {1}-fwd\n"
                     "add rule {0} forward oifname \"{1}\" jump {1}-fwd\n",
                     kTable, b);
    if (!n.internal) {
        s += fmt::format("add chain {0} {1}-nat\n"
                         "add rule {0} {1}-nat ip saddr {2} oifname != \"{1}\" masquerade\n"
                         "add rule {0} postrouting ip saddr {2} jump {1}-nat\n",
                         kTable, b, n.subnet);
    } else {
        s += fmt::format("add chain {0} {1}-in\n"
                         "add rule {0} {1}-in ip daddr != {2} drop\n",
                         kTable, b, n.gateway);
        if (n.ipv6)
            s += fmt::format("add rule {0} {1}-in ip6 daddr != {{ {2}, fe80::/10, ff00::/8 }} drop\n", kTable, b,
                             n.gateway6);
        s += fmt::format("add rule {0} input iifname \"{1}\" jump {1}-in\n", kTable, b);
    }
    return s;
}

// An address the bridge has already (made before a crash) is as good.
Result<void> existing_ok(Result<void> r) {
    if (!r && r.error().code() == EEXIST) return ok();
    return r;
}

}  // namespace

bool host_mode(const Context& ctx) { return !ctx.rootless; }

Result<FileLock> host_lock() {
    return FileLock::acquire(kHostLock, FileLock::Mode::exclusive, "the host's service network bridges");
}

std::string host_overlap(const Cidr& c) {
    ifaddrs* list = nullptr;
    std::string found;
    if (::getifaddrs(&list) == 0) {
        for (auto* a = list; a && found.empty(); a = a->ifa_next) {
            if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET || !a->ifa_netmask) continue;
            uint32_t ip = ntohl(reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr.s_addr);
            int p = prefix_of(ntohl(reinterpret_cast<sockaddr_in*>(a->ifa_netmask)->sin_addr.s_addr));
            if (overlap(c, Cidr{ip, std::max(p, 0)}))
                found = fmt::format("the address {}/{} on {}", v4_text(ip), p, a->ifa_name);
        }
        ::freeifaddrs(list);
    }
    if (!found.empty()) return found;
    // The main table's routes (the default route aside).
    auto routes = fs::read_file("/proc/net/route").value_or("");
    for (const auto& line : strings::split(routes, '\n')) {
        auto w = strings::split_ws(line);
        if (w.size() < 8 || w[0] == "Iface") continue;
        uint32_t dst = 0, mask = 0;
        if (std::sscanf(std::string(w[1]).c_str(), "%x", &dst) != 1 ||
            std::sscanf(std::string(w[7]).c_str(), "%x", &mask) != 1 || mask == 0)
            continue;
        Cidr r{ntohl(dst), prefix_of(ntohl(mask))};
        if (overlap(c, r)) return fmt::format("the route {}/{} on {}", v4_text(r.base), r.prefix, std::string(w[0]));
    }
    return "";
}

bool host_link_exists(const std::string& name) { return ::if_nametoindex(name.c_str()) != 0; }

void host_collect(const Context& ctx, const std::vector<ServiceNetwork>& records) {
    const std::string mark = "bock-net ";
    for (const auto& link : host_links()) {
        auto a = read_alias(link);
        if (!a.starts_with(mark)) continue;
        auto sp = a.find(' ', mark.size());
        if (sp == std::string::npos) continue;
        ServiceNetwork probe;
        probe.id = a.substr(mark.size(), sp - mark.size());
        if (a != owner_alias(ctx, probe)) continue;  // another store's
        if (std::any_of(records.begin(), records.end(), [&](const auto& n) { return n.id == probe.id; })) continue;
        log::debug("removing bridge {}: its network's record is gone", link);
        if (auto s = removal_script(table_items(), chains_of(link)); !s.empty()) (void)nft(s);
        if (auto nl = Netlink::open()) {
            if (int idx = static_cast<int>(::if_nametoindex(link.c_str())); idx > 0) (void)nl->delete_link(idx);
        }
    }
}

Result<void> host_bridge_up(const Context& ctx, const ServiceNetwork& n) {
    auto nl = BOCK_TRY(Netlink::open());
    std::string mine = owner_alias(ctx, n);
    int idx = static_cast<int>(::if_nametoindex(n.bridge.c_str()));
    if (idx > 0 && read_alias(n.bridge) != mine)
        return make_error("network `{}`: the host link {} is not this network's bridge", n.name, n.bridge)
            .with_hint("another run root or program made it; remove and create the network again (`bock network rm " +
                       n.name + "`)");
    if (idx == 0) {
        auto c = *parse_cidr(n.subnet);
        if (auto o = host_overlap(c); !o.empty())
            return make_error("network `{}`: its subnet {} overlaps {}", n.name, n.subnet, o)
                .with_hint("remove the network and create it with another --subnet");
        auto made = nl.add_bridge(n.bridge);
        if (!made) return std::move(made).error().wrap(fmt::format("network `{}`: create bridge {}", n.name, n.bridge));
        idx = BOCK_TRY(nl.link_index(n.bridge));
        if (auto w = fs::write_file(alias_path(n.bridge), mine); !w) {
            (void)nl.delete_link(idx);
            return std::move(w).error().wrap(fmt::format("network `{}`: mark bridge {}", n.name, n.bridge));
        }
    }
    BOCK_TRY_CTX(existing_ok(add_v4(nl, idx, n.gateway, parse_cidr(n.subnet)->prefix)),
                 fmt::format("network `{}`: the gateway's address", n.name));
    if (n.ipv6)
        BOCK_TRY_CTX(existing_ok(add_v6(nl, idx, n.gateway6, 64)), fmt::format("network `{}`: the IPv6 gateway", n.name));
    BOCK_TRY(nl.set_link_up(idx, 0));
    // The way out is the host's routing, as docker's: on with the first bridge.
    if (!n.internal && fs::read_file("/proc/sys/net/ipv4/ip_forward").value_or("1").rfind('1', 0) != 0)
        BOCK_TRY_CTX(fs::write_file("/proc/sys/net/ipv4/ip_forward", "1"), "enable IPv4 forwarding on the host");
    // The network's chains, unless they are there.
    auto items = table_items();
    bool have = std::any_of(items.begin(), items.end(), [&](const auto& it) {
        return it.contains("chain") && it["chain"].value("name", "") == n.bridge + "-fwd";
    });
    if (!have) BOCK_TRY_CTX(nft(add_script(n)), fmt::format("network `{}`: its nftables chains", n.name));
    return ok();
}

Result<void> host_bridge_down(const Context& ctx, const ServiceNetwork& n) {
    int idx = static_cast<int>(::if_nametoindex(n.bridge.c_str()));
    // A link of that name that is not ours: its chains are not ours either.
    if (idx > 0 && read_alias(n.bridge) != owner_alias(ctx, n)) {
        log::debug("network {}: the host link {} is not its bridge: left alone", n.name, n.bridge);
        return ok();
    }
    if (auto s = removal_script(table_items(), chains_of(n.bridge)); !s.empty())
        BOCK_TRY_CTX(nft(s), fmt::format("network `{}`: remove its nftables chains", n.name));
    if (idx == 0) return ok();
    auto nl = BOCK_TRY(Netlink::open());
    return nl.delete_link(idx).context(fmt::format("network `{}`: remove bridge {}", n.name, n.bridge));
}

namespace {

std::string dnat_chain(const std::string& container_id) { return "ctr-" + container_id.substr(0, 12); }

// A published port DNAT can serve: an IPv4 host address that is not
// loopback (all addresses included); 127.0.0.1 and IPv6 stay with the
// userspace forwarder (DNAT to another host reaches loopback only with
// route_localnet, and the container has no IPv6 address to DNAT to).
bool dnat_serves(const PortMapping& p) {
    if (p.host_ip.empty() || p.host_ip == "0.0.0.0") return true;
    auto a = parse_v4(p.host_ip);
    return a && (*a >> 24) != 127;
}

}  // namespace

Result<bool> host_dnat_add(const std::string& container_id, const std::string& ipv4,
                           const std::vector<PortMapping>& ports) {
    std::string c = dnat_chain(container_id), rules;
    for (const auto& p : ports) {
        if (!dnat_serves(p)) continue;
        std::string match = p.host_ip.empty() || p.host_ip == "0.0.0.0" ? "fib daddr type local"
                                                                          : "ip daddr " + p.host_ip;
        rules += fmt::format("add rule {} {} {} {} dport {} dnat ip to {}:{}\n", kTable, c, match, p.proto,
                             p.host_port, ipv4, p.container_port);
    }
    if (rules.empty()) return false;
    std::string s = removal_script(table_items(), {c});
    // The table itself must stay: only this chain's commands from the removal.
    if (auto t = s.find("delete table"); t != std::string::npos) s.erase(t);
    s += kBaseChainsText;
    s += fmt::format("add chain {0} {1}\n", kTable, c) + rules +
         fmt::format("add rule {0} prerouting jump {1}\n", kTable, c);
    BOCK_TRY_CTX(nft(s), "the published ports' DNAT rules");
    return true;
}

Result<void> host_dnat_remove(const std::string& container_id) {
    if (auto s = removal_script(table_items(), {dnat_chain(container_id)}); !s.empty())
        BOCK_TRY_CTX(nft(s), "remove the published ports' DNAT rules");
    return ok();
}

}  // namespace bock::engine::svcnet
