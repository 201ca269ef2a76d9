// Service network records: <store>/networks/<name>.json, each replaced
// atomically under <store>/networks/lock; addresses allocated under the
// same lock (docs/networking.md, "Service networks").
#include <arpa/inet.h>

#include <algorithm>
#include <set>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/time.hpp"
#include "bock/engine/containers.hpp"
#include "container_dirs.hpp"
#include "svcnet_internal.hpp"

namespace bock::engine {

nlohmann::json ServiceNetwork::to_json() const {
    auto eps = nlohmann::json::array();
    for (const auto& e : endpoints)
        eps.push_back({{"container_id", e.container_id},
                       {"container_name", e.container_name},
                       {"ipv4", e.ipv4},
                       {"ipv6", e.ipv6},
                       {"aliases", e.aliases},
                       {"link", e.link}});
    return {{"name", name},         {"id", id},         {"driver", driver},     {"subnet", subnet},
            {"gateway", gateway},   {"subnet6", subnet6}, {"gateway6", gateway6}, {"ipv6", ipv6},
            {"internal", internal}, {"labels", labels}, {"created", created},   {"bridge", bridge},
            {"endpoints", eps}};
}

Result<ServiceNetwork> ServiceNetwork::from_json(const nlohmann::json& j) {
    try {
        ServiceNetwork n;
        n.name = j.at("name").get<std::string>();
        n.id = j.at("id").get<std::string>();
        n.driver = j.value("driver", "bridge");
        n.subnet = j.at("subnet").get<std::string>();
        n.gateway = j.at("gateway").get<std::string>();
        n.subnet6 = j.value("subnet6", "");
        n.gateway6 = j.value("gateway6", "");
        n.ipv6 = j.value("ipv6", false);
        n.internal = j.value("internal", false);
        n.labels = j.value("labels", std::map<std::string, std::string>{});
        n.created = j.value("created", int64_t{0});
        n.bridge = j.at("bridge").get<std::string>();
        for (const auto& e : j.value("endpoints", nlohmann::json::array())) {
            Endpoint ep;
            ep.container_id = e.at("container_id").get<std::string>();
            ep.container_name = e.value("container_name", "");
            ep.ipv4 = e.value("ipv4", "");
            ep.ipv6 = e.value("ipv6", "");
            ep.aliases = e.value("aliases", std::vector<std::string>{});
            ep.link = e.value("link", "");
            n.endpoints.push_back(std::move(ep));
        }
        return n;
    } catch (const nlohmann::json::exception& e) {
        return make_error("{}", e.what());
    }
}

namespace svcnet {

std::string networks_dir(const Context& ctx) { return fs::join(ctx.store_root, "networks"); }
std::string runtime_dir(const Context& ctx) { return fs::join(ctx.run_root, "svcnet"); }
std::string hosts_file(const Context& ctx, const std::string& network) {
    return runtime_dir(ctx) + "/" + network + ".hosts";
}

Result<FileLock> lock(const Context& ctx) {
    BOCK_TRY(fs::mkdir_p(networks_dir(ctx), 0700));
    return FileLock::acquire(networks_dir(ctx) + "/lock", FileLock::Mode::exclusive,
                             "the network records " + networks_dir(ctx));
}

bool valid_name(const std::string& name) {
    if (name.empty() || name.size() > 63 || !std::isalnum(static_cast<unsigned char>(name[0]))) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    });
}

namespace {

Result<std::vector<ServiceNetwork>> read_all(const Context& ctx) {
    std::vector<ServiceNetwork> out;
    if (!fs::is_dir(networks_dir(ctx))) return out;
    for (const auto& f : BOCK_TRY(fs::list_dir(networks_dir(ctx)))) {
        if (!f.ends_with(".json")) continue;
        std::string path = networks_dir(ctx) + "/" + f;
        auto text = BOCK_TRY(fs::read_file(path));
        nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
        if (j.is_discarded()) return make_error("network record `{}`: not JSON", path);
        out.push_back(BOCK_TRY_CTX(ServiceNetwork::from_json(j), fmt::format("network record `{}`", path)));
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
}

}  // namespace

Result<std::vector<ServiceNetwork>> load_all_locked(const Context& ctx) {
    auto all = BOCK_TRY(read_all(ctx));
    for (auto& n : all) {
        auto before = n.endpoints.size();
        std::erase_if(n.endpoints, [&](const Endpoint& e) {
            return !fs::exists(ContainerDirs::for_id(ctx, e.container_id).record());
        });
        if (n.endpoints.size() != before) {
            log::debug("network {}: dropping {} endpoints of removed containers", n.name, before - n.endpoints.size());
            BOCK_TRY(save(ctx, n));
        }
    }
    return all;
}

Result<void> write_hosts(const Context& ctx, const ServiceNetwork& n) {
    std::string text;
    for (const auto& e : n.endpoints) {
        std::string names = e.container_name;
        for (const auto& a : e.aliases) names += " " + a;
        if (!e.ipv4.empty()) text += e.ipv4 + " " + names + "\n";
        if (!e.ipv6.empty()) text += e.ipv6 + " " + names + "\n";
    }
    BOCK_TRY(fs::mkdir_p(runtime_dir(ctx), 0700));
    // The run root is emptied by a reboot: atomic, not durable.
    return fs::write_file_replace(hosts_file(ctx, n.name), text, 0600, false);
}

Result<void> save(const Context& ctx, const ServiceNetwork& n) {
    BOCK_TRY(fs::write_file_replace(networks_dir(ctx) + "/" + n.name + ".json", n.to_json().dump(2), 0600, true));
    return write_hosts(ctx, n);
}

std::optional<Cidr> parse_cidr(const std::string& s) {
    auto slash = s.find('/');
    if (slash == std::string::npos) return std::nullopt;
    auto a = parse_v4(s.substr(0, slash));
    int prefix = 0;
    try {
        size_t used = 0;
        prefix = std::stoi(s.substr(slash + 1), &used);
        if (used != s.size() - slash - 1) return std::nullopt;
    } catch (...) {
        return std::nullopt;
    }
    if (!a || prefix < 8 || prefix > 30) return std::nullopt;
    uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
    return Cidr{*a & mask, prefix};
}

bool overlap(const Cidr& a, const Cidr& b) {
    int p = std::min(a.prefix, b.prefix);
    uint32_t mask = p == 0 ? 0 : ~uint32_t{0} << (32 - p);
    return (a.base & mask) == (b.base & mask);
}

std::optional<uint32_t> parse_v4(const std::string& s) {
    in_addr a{};
    if (::inet_pton(AF_INET, s.c_str(), &a) != 1) return std::nullopt;
    return ntohl(a.s_addr);
}

std::string v4_text(uint32_t a) {
    in_addr x{htonl(a)};
    char buf[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &x, buf, sizeof buf);
    return buf;
}

std::string v6_for(const ServiceNetwork& n, const std::string& ipv4) {
    if (!n.ipv6 || n.subnet6.empty()) return "";
    auto c = parse_cidr(n.subnet);
    auto a = parse_v4(ipv4);
    if (!c || !a) return "";
    uint32_t host = *a - c->base;
    std::string prefix = n.subnet6.substr(0, n.subnet6.find("::"));
    return fmt::format("{}::{:x}", prefix, host);
}

namespace {

bool in_cidr(const Cidr& c, uint32_t a) {
    uint32_t mask = ~uint32_t{0} << (32 - c.prefix);
    return (a & mask) == c.base;
}

bool name_taken(const ServiceNetwork& n, const std::string& name) {
    for (const auto& e : n.endpoints) {
        if (e.container_name == name) return true;
        if (std::find(e.aliases.begin(), e.aliases.end(), name) != e.aliases.end()) return true;
    }
    return false;
}

}  // namespace

Result<std::vector<ServiceNetwork>> allocate(const Context& ctx, const std::string& container_id,
                                             const std::string& container_name, const std::vector<Attach>& attach) {
    auto guard = BOCK_TRY(lock(ctx));
    auto all = BOCK_TRY(load_all_locked(ctx));
    std::vector<ServiceNetwork> out;
    for (const auto& a : attach) {
        auto it = std::find_if(all.begin(), all.end(), [&](const auto& n) { return n.name == a.network; });
        if (it == all.end())
            return make_error("network `{}`: no such network", a.network).with_hint("create it with `bock network create " + a.network + "`");
        ServiceNetwork& n = *it;
        if (std::any_of(n.endpoints.begin(), n.endpoints.end(),
                        [&](const auto& e) { return e.container_id == container_id; }))
            return make_error("container {} is already on network `{}`", container_name, n.name);
        for (const auto& name : [&] {
                 auto v = a.aliases;
                 v.insert(v.begin(), container_name);
                 return v;
             }())
            if (name_taken(n, name))
                return make_error("network `{}`: the name `{}` is taken by another container", n.name, name)
                    .with_hint("pick another --name or --network-alias");
        auto cidr = *parse_cidr(n.subnet);
        std::set<uint32_t> used = {*parse_v4(n.gateway)};
        for (const auto& e : n.endpoints)
            if (auto x = parse_v4(e.ipv4)) used.insert(*x);
        uint32_t first = cidr.base + 1, last = cidr.base + (uint32_t{1} << (32 - cidr.prefix)) - 2;
        uint32_t chosen = 0;
        if (!a.ip.empty()) {
            auto want = parse_v4(a.ip);
            if (!want) return make_error("--ip {}: not an IPv4 address", a.ip);
            if (!in_cidr(cidr, *want) || *want < first || *want > last)
                return make_error("--ip {}: not a host address of network `{}` ({})", a.ip, n.name, n.subnet);
            if (used.count(*want))
                return make_error("--ip {}: already in use on network `{}`", a.ip, n.name);
            chosen = *want;
        } else {
            for (uint32_t x = first; x <= last; ++x)
                if (!used.count(x)) {
                    chosen = x;
                    break;
                }
            if (!chosen)
                return make_error("network `{}`: no free address in {}", n.name, n.subnet)
                    .with_hint("remove containers from it, or create a network with a larger --subnet");
        }
        Endpoint ep;
        ep.container_id = container_id;
        ep.container_name = container_name;
        ep.ipv4 = v4_text(chosen);
        ep.ipv6 = v6_for(n, ep.ipv4);
        ep.aliases = a.aliases;
        n.endpoints.push_back(ep);
        BOCK_TRY(save(ctx, n));
        out.push_back(n);
    }
    return out;
}

}  // namespace svcnet

using namespace svcnet;

Result<ServiceNetwork> create_network(Context& ctx, const NetworkCreateRequest& req) {
    if (!valid_name(req.name))
        return make_error("network name `{}`: use letters, digits, `-`, `_` and `.`, starting with a letter or digit",
                          req.name);
    static const std::set<std::string> reserved = {"none", "host", "bridge", "slirp4netns", "pasta", "private",
                                                   "container", "ns", "default"};
    if (reserved.count(req.name))
        return make_error("network name `{}` is reserved (a --network mode)", req.name);
    ServiceNetwork n;
    n.name = req.name;
    n.ipv6 = req.ipv6;
    n.internal = req.internal;
    n.created = time::now();
    for (const auto& l : req.labels) {
        auto eq = l.find('=');
        n.labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
    }
    auto guard = BOCK_TRY(lock(ctx));
    auto all = BOCK_TRY(load_all_locked(ctx));
    for (const auto& o : all)
        if (o.name == n.name) return make_error("network `{}` already exists", n.name).with_hint("pick another name, or `bock network rm " + n.name + "` first");
    // As real root the bridges are the host's: names and subnets are
    // claimed host-wide, under the host's lock (every run root's).
    std::optional<FileLock> host;
    if (host_mode(ctx)) {
        host = BOCK_TRY(host_lock());
        host_collect(ctx, all);
    }
    auto overlaps = [&](const Cidr& c) {
        for (const auto& o : all)
            if (auto oc = parse_cidr(o.subnet); oc && overlap(c, *oc)) return fmt::format("network `{}`", o.name);
        return host ? host_overlap(c) : std::string();
    };
    int number = 0;  // the subnet's third byte for the default 10.89.N.0/24
    if (req.subnet.empty()) {
        for (number = 0; number < 256; ++number)
            if (overlaps(Cidr{(10u << 24) | (89u << 16) | (static_cast<uint32_t>(number) << 8), 24}).empty()) break;
        if (number == 256) return make_error("no free subnet in 10.89.0.0/16").with_hint("give one with --subnet");
        n.subnet = fmt::format("10.89.{}.0/24", number);
    } else {
        auto c = parse_cidr(req.subnet);
        if (!c)
            return make_error("--subnet {}: expected an IPv4 CIDR from /8 to /30, e.g. 10.90.0.0/24", req.subnet);
        if (auto other = overlaps(*c); !other.empty())
            return make_error("--subnet {}: overlaps {}", req.subnet, other).with_hint("pick another --subnet");
        n.subnet = v4_text(c->base) + "/" + std::to_string(c->prefix);
        number = static_cast<int>((c->base >> 8) & 0xff);
    }
    auto cidr = *parse_cidr(n.subnet);
    if (req.gateway.empty()) {
        n.gateway = v4_text(cidr.base + 1);
    } else {
        auto g = parse_v4(req.gateway);
        uint32_t last = cidr.base + (uint32_t{1} << (32 - cidr.prefix)) - 2;
        if (!g || !in_cidr(cidr, *g) || *g < cidr.base + 1 || *g > last)
            return make_error("--gateway {}: not a host address in {}", req.gateway, n.subnet);
        n.gateway = req.gateway;
    }
    if (n.ipv6) {
        n.subnet6 = fmt::format("fd89:0:0:{:x}::/64", (cidr.base >> 8) & 0xffff);
        n.gateway6 = v6_for(n, n.gateway);
    }
    // The bridge: bock1, bock2, ... (bock0 is the root default's name).
    std::set<std::string> bridges;
    for (const auto& o : all) bridges.insert(o.bridge);
    // bock0: root's bridge network's, when free (another run root's may hold it).
    if (n.name == kBridgeNetwork && host && !bridges.count("bock0") && !host_link_exists("bock0")) n.bridge = "bock0";
    for (int i = 1; n.bridge.empty(); ++i)
        if (!bridges.count("bock" + std::to_string(i)) && !(host && host_link_exists("bock" + std::to_string(i)))) {
            n.bridge = "bock" + std::to_string(i);
            break;
        }
    n.id = BOCK_TRY(new_container_id());
    (void)number;
    if (host) {
        // The bridge is the claim other run roots see: made before the
        // record (one killed in between is collected by the next create).
        if (auto up = host_bridge_up(ctx, n); !up) {
            (void)host_bridge_down(ctx, n);
            return std::move(up).error();
        }
    }
    if (auto saved = save(ctx, n); !saved) {
        if (host) (void)host_bridge_down(ctx, n);
        return std::move(saved).error();
    }
    return n;
}

Result<void> ensure_bridge_network(Context& ctx) {
    if (find_network(ctx, kBridgeNetwork)) return ok();
    NetworkCreateRequest req;
    req.name = kBridgeNetwork;
    auto made = create_network(ctx, req);
    // Made by another bock at the same time: as good.
    if (!made && !find_network(ctx, kBridgeNetwork))
        return std::move(made).error().wrap(fmt::format("--network bridge: create the network `{}`", kBridgeNetwork));
    return ok();
}

Result<std::vector<ServiceNetwork>> list_networks(Context& ctx) {
    auto guard = BOCK_TRY(lock(ctx));
    return load_all_locked(ctx);
}

Result<ServiceNetwork> find_network(Context& ctx, const std::string& key) {
    auto all = BOCK_TRY(list_networks(ctx));
    std::vector<const ServiceNetwork*> prefix;
    for (const auto& n : all) {
        if (n.name == key || n.id == key) return n;
        if (key.size() >= 3 && n.id.starts_with(key)) prefix.push_back(&n);
    }
    if (prefix.size() == 1) return *prefix[0];
    return Error(ENOENT, fmt::format("network `{}`: no such network", key))
        .with_hint("`bock network ls` lists them; `bock network create NAME` makes one");
}

namespace {
std::string users_text(const ServiceNetwork& n) {
    std::string s;
    for (const auto& e : n.endpoints) s += (s.empty() ? "" : ", ") + e.container_name;
    return s;
}
}  // namespace

Result<void> remove_network(Context& ctx, const std::string& key) {
    auto n = BOCK_TRY(find_network(ctx, key));
    auto guard = BOCK_TRY(lock(ctx));
    auto all = BOCK_TRY(load_all_locked(ctx));
    auto it = std::find_if(all.begin(), all.end(), [&](const auto& o) { return o.name == n.name; });
    if (it == all.end()) return Error(ENOENT, fmt::format("network `{}`: no such network", key));
    if (!it->endpoints.empty())
        return make_error("network `{}` is in use by {}", it->name, users_text(*it))
            .with_hint("remove those containers first (`bock rm -f`), or `bock network disconnect` stopped ones");
    // What runs and exists for it first, the record last: a removal killed
    // half-way leaves a record whose bridge and responder the next `rm`
    // (or the next container) finds and handles again.
    BOCK_TRY(take_down(ctx, *it));
    if (::unlink((networks_dir(ctx) + "/" + it->name + ".json").c_str()) != 0 && errno != ENOENT)
        return errno_error("remove the record of network `{}`", it->name);
    // The last network gone: its way out too. As root the helper only
    // forwards published ports: it goes when no network has a container
    // left (root's default network `bock` stays in the store).
    bool idle = std::all_of(all.begin(), all.end(), [&](const auto& o) { return o.endpoints.empty(); });
    if (all.size() == 1 || (host_mode(ctx) && idle)) BOCK_TRY(stop_outbound(ctx));
    if (all.size() == 1) BOCK_TRY(remove_namespace(ctx));
    return ok();
}

Result<std::vector<std::string>> prune_networks(Context& ctx) {
    std::vector<std::string> removed;
    for (const auto& n : BOCK_TRY(list_networks(ctx)))
        if (n.endpoints.empty()) {
            BOCK_TRY(remove_network(ctx, n.name));
            removed.push_back(n.name);
        }
    return removed;
}

namespace {

// A running container on service networks (record.network names them):
// the pid of its init, whose namespace takes or loses a veth.
Result<pid_t> running_svcnet_pid(const Context& ctx, const ContainerInfo& c, const std::string& what) {
    auto kind = c.rec.network.substr(0, c.rec.network.find(':'));
    for (const char* builtin : {"", "none", "host", "slirp4netns", "container", "ns"})
        if (kind == builtin)
            return make_error("container {} runs with --network {}: only a container on service networks can be {} "
                              "while running",
                              c.rec.name, c.rec.network.empty() ? "none" : c.rec.network, what)
                .with_hint("stop it first; it joins the network when it starts");
    auto text = BOCK_TRY_CTX(fs::read_file(ContainerDirs::for_id(ctx, c.rec.id).pid_file()),
                             fmt::format("container {}: find its process", c.rec.name));
    pid_t pid = std::atoi(text.c_str());
    if (pid <= 0) return make_error("container {}: no process in its pid file", c.rec.name);
    return pid;
}

Result<void> remove_endpoint(const Context& ctx, const std::string& network, const std::string& container_id) {
    auto guard = BOCK_TRY(lock(ctx));
    for (auto& o : BOCK_TRY(load_all_locked(ctx))) {
        if (o.name != network) continue;
        auto before = o.endpoints.size();
        std::erase_if(o.endpoints, [&](const Endpoint& e) { return e.container_id == container_id; });
        if (before == o.endpoints.size()) return make_error("not on network `{}`", o.name);
        return save(ctx, o);
    }
    return ok();
}

}  // namespace

Result<void> connect_network(Context& ctx, const std::string& network, const std::string& container,
                             const std::vector<std::string>& aliases, const std::string& ip) {
    auto c = BOCK_TRY(find_container(ctx, container));
    pid_t pid = 0;
    if (c.status == "running") pid = BOCK_TRY(running_svcnet_pid(ctx, c, "connected"));
    auto n = BOCK_TRY(find_network(ctx, network));
    auto nets = BOCK_TRY(allocate(ctx, c.rec.id, c.rec.name, {Attach{n.name, aliases, ip}}));
    if (pid == 0) return ok();  // it joins the network at its next start
    // Running: a veth into its namespace now (eth<N>, the first free N);
    // the endpoint is released again if that fails.
    auto& net = nets.front();
    auto& ep = net.endpoints.back();
    ep.link = link_name(c.rec.id, net);
    auto plugged = [&]() -> Result<void> {
        std::string upstream;
        if (const char* e = std::getenv("BOCK_DNS_UPSTREAM")) upstream = e;
        BOCK_TRY_CTX(ensure_up(ctx, net, upstream), fmt::format("network `{}`", net.name));
        int index = BOCK_TRY(free_inside_index(pid));
        return plug(ctx, net, ep, pid, index);
    }();
    if (!plugged) {
        (void)unplug(ctx, net, c.rec.id);
        (void)remove_endpoint(ctx, net.name, c.rec.id);
        return std::move(plugged).error().wrap(fmt::format("connect container {} to network `{}`", c.rec.name, net.name));
    }
    return ok();
}

Result<void> disconnect_network(Context& ctx, const std::string& network, const std::string& container) {
    auto c = BOCK_TRY(find_container(ctx, container));
    pid_t pid = 0;
    if (c.status == "running") pid = BOCK_TRY(running_svcnet_pid(ctx, c, "disconnected"));
    auto n = BOCK_TRY(find_network(ctx, network));
    BOCK_TRY_CTX(remove_endpoint(ctx, n.name, c.rec.id), fmt::format("container {}", c.rec.name));
    // Its veth pair (the container's eth<N> with it); a stopped container has none.
    if (pid > 0) BOCK_TRY(unplug(ctx, n, c.rec.id));
    return ok();
}

Result<void> release_endpoints(const Context& ctx, const std::string& container_id) {
    auto guard = BOCK_TRY(lock(ctx));
    // Its published ports, if the helper has not removed them yet (its
    // endpoints may be gone already: load_all_locked drops those whose
    // container record is removed, which `bock rm` does first).
    svcnet::unpublish(ctx, container_id);
    bool in_use = false, stopped = false;
    for (auto& n : BOCK_TRY(load_all_locked(ctx))) {
        auto before = n.endpoints.size();
        std::erase_if(n.endpoints, [&](const Endpoint& e) { return e.container_id == container_id; });
        in_use = in_use || !n.endpoints.empty();
        if (before != n.endpoints.size()) BOCK_TRY(save(ctx, n));
        // Root's default network keeps no process for nobody: its DNS
        // responder stops with its last container (whose endpoint
        // load_all_locked may have dropped already), as aardvark-dns does
        // with podman's networks. Its bridge and chains stay, as docker0
        // does (the subnet stays claimed on the host); the next container
        // starts the responder again (ensure_up).
        if (n.name == kBridgeNetwork && n.endpoints.empty() && host_mode(ctx) && responder_pid(ctx, n.name)) {
            BOCK_TRY_CTX(stop_responder(ctx, n), fmt::format("network `{}`", n.name));
            stopped = true;
        }
    }
    // ... and the forwarder of published loopback ports with it when no
    // network has a container left.
    if (stopped && !in_use) BOCK_TRY(stop_outbound(ctx));
    return ok();
}

nlohmann::json network_inspect_json(const ServiceNetwork& n) {
    nlohmann::json subnets = nlohmann::json::array({{{"subnet", n.subnet}, {"gateway", n.gateway}}});
    if (n.ipv6) subnets.push_back({{"subnet", n.subnet6}, {"gateway", n.gateway6}});
    nlohmann::json containers = nlohmann::json::object();
    for (const auto& e : n.endpoints) {
        nlohmann::json ips = nlohmann::json::array({e.ipv4});
        if (!e.ipv6.empty()) ips.push_back(e.ipv6);
        containers[e.container_id] = {{"name", e.container_name}, {"ips", ips}, {"aliases", e.aliases},
                                      {"interface", e.link}};
    }
    return {{"name", n.name},
            {"id", n.id},
            {"driver", n.driver},
            {"network_interface", n.bridge},
            {"created", time::rfc3339(n.created)},
            {"subnets", subnets},
            {"ipv6_enabled", n.ipv6},
            {"internal", n.internal},
            {"dns_enabled", true},
            {"labels", n.labels},
            {"containers", containers}};
}

}  // namespace bock::engine
