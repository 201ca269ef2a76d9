// Service networks (`bock network ...`, `bock run --network NAME`): named
// networks whose containers reach each other by name (docs/networking.md,
// "Service networks"). The records live in the store
// (<store>/networks/<name>.json, written atomically under
// <store>/networks/lock); a network outlives its containers.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bock/common/error.hpp"
#include "bock/engine/context.hpp"

namespace bock::engine {

// A container's place on a network.
struct Endpoint {
    std::string container_id;
    std::string container_name;
    std::string ipv4;  // without prefix
    std::string ipv6;  // empty without --ipv6
    std::vector<std::string> aliases;
    std::string link;  // the veth's end on the bridge
};

struct ServiceNetwork {
    std::string name;
    std::string id;  // 64 hex
    std::string driver = "bridge";
    std::string subnet, gateway;  // 10.89.N.0/24, 10.89.N.1
    std::string subnet6, gateway6;  // with --ipv6
    bool ipv6 = false;
    bool internal = false;
    std::map<std::string, std::string> labels;
    int64_t created = 0;
    std::string bridge;  // bock1, bock2, ... (bock0 is root's default)
    std::vector<Endpoint> endpoints;

    nlohmann::json to_json() const;
    static Result<ServiceNetwork> from_json(const nlohmann::json& j);
};

struct NetworkCreateRequest {
    std::string name;
    std::string subnet;   // CIDR; empty: the first free 10.89.N.0/24
    std::string gateway;  // empty: the subnet's first address
    bool ipv6 = false;
    bool internal = false;
    std::vector<std::string> labels;  // K=V
};

Result<ServiceNetwork> create_network(Context& ctx, const NetworkCreateRequest& req);
// Root's bridge network (`--network bridge`): a service network of this
// name, made on first use with the defaults, on bridge bock0 when that is
// free on the host.
inline constexpr const char* kBridgeNetwork = "bock";
Result<void> ensure_bridge_network(Context& ctx);
Result<std::vector<ServiceNetwork>> list_networks(Context& ctx);
Result<ServiceNetwork> find_network(Context& ctx, const std::string& name_or_id);
// Refuses a network with containers, naming them.
Result<void> remove_network(Context& ctx, const std::string& name_or_id);
// Removes the networks no container uses; returns their names.
Result<std::vector<std::string>> prune_networks(Context& ctx);
// `bock network connect/disconnect`: a stopped container's place on the
// network (a running container's network namespace is not changed yet).
Result<void> connect_network(Context& ctx, const std::string& network, const std::string& container,
                             const std::vector<std::string>& aliases, const std::string& ip);
Result<void> disconnect_network(Context& ctx, const std::string& network, const std::string& container);
// podman's `network inspect` JSON.
nlohmann::json network_inspect_json(const ServiceNetwork& n);

// A container's endpoints are released on `bock rm` (after its record is
// gone; a removal killed in between leaves an endpoint without a record,
// dropped by the next write under the lock).
Result<void> release_endpoints(const Context& ctx, const std::string& container_id);

}  // namespace bock::engine
