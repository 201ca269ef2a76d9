// `bock network create|ls|inspect|rm|prune|connect|disconnect`: service
// networks, whose containers reach each other by name (docs/networking.md,
// "Service networks").
#include "bock/common/time.hpp"
#include "bock/engine/svcnet.hpp"
#include "commands.hpp"

namespace bock::cli {
namespace {

void add_net_create(CLI::App& parent) {
    auto* cmd = parent.add_subcommand("create", "Create a network");
    auto req = std::make_shared<engine::NetworkCreateRequest>();
    cmd->add_option("NAME", req->name, "The network's name")->required();
    cmd->add_option("--subnet", req->subnet, "IPv4 subnet in CIDR form (default: the first free 10.89.N.0/24)");
    cmd->add_option("--gateway", req->gateway, "The gateway's address (default: the subnet's first)");
    cmd->add_flag("--ipv6", req->ipv6, "Give containers IPv6 addresses too (fd89:0:0:N::/64)");
    cmd->add_flag("--internal", req->internal, "No route out: containers reach only each other");
    cmd->add_option("--label", req->labels, "Set a label K=V (repeatable)");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            auto n = BOCK_TRY(engine::create_network(ctx, *req));
            fmt::print("{}\n", n.name);
            return 0;
        });
    });
}

void add_net_ls(CLI::App& parent) {
    auto* cmd = parent.add_subcommand("ls", "List networks");
    cmd->alias("list");
    auto format = std::make_shared<std::string>();
    auto quiet = std::make_shared<bool>(false);
    cmd->add_flag("-q,--quiet", *quiet, "Show only names");
    cmd->add_option("--format", *format, "Output format: json or table")->check(CLI::IsMember({"json", "table"}));
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            auto all = BOCK_TRY(engine::list_networks(ctx));
            if (*format == "json") {
                auto arr = nlohmann::json::array();
                for (const auto& n : all) arr.push_back(engine::network_inspect_json(n));
                fmt::print("{}\n", arr.dump(2));
                return 0;
            }
            if (*quiet) {
                for (const auto& n : all) fmt::print("{}\n", n.name);
                return 0;
            }
            fmt::print("{:<14} {:<24} {:<8} {:<18} {}\n", "NETWORK ID", "NAME", "DRIVER", "SUBNET", "CONTAINERS");
            for (const auto& n : all)
                fmt::print("{:<14} {:<24} {:<8} {:<18} {}\n", n.id.substr(0, 12), n.name, n.driver, n.subnet,
                           n.endpoints.size());
            return 0;
        });
    });
}

void add_net_inspect(CLI::App& parent) {
    auto* cmd = parent.add_subcommand("inspect", "Show networks as JSON");
    auto names = std::make_shared<std::vector<std::string>>();
    cmd->add_option("NETWORK", *names, "Network names or ids")->required();
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            auto arr = nlohmann::json::array();
            for (const auto& name : *names) arr.push_back(engine::network_inspect_json(BOCK_TRY(engine::find_network(ctx, name))));
            fmt::print("{}\n", arr.dump(2));
            return 0;
        });
    });
}

void add_net_rm(CLI::App& parent) {
    auto* cmd = parent.add_subcommand("rm", "Remove networks no container uses");
    cmd->alias("remove");
    auto names = std::make_shared<std::vector<std::string>>();
    cmd->add_option("NETWORK", *names, "Network names or ids")->required();
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            int rc = 0;
            for (const auto& name : *names) {
                if (auto r = engine::remove_network(ctx, name); !r) {
                    log::report(r.error());
                    rc = r.error().exit_status() == 0 ? 125 : r.error().exit_status();
                    continue;
                }
                fmt::print("{}\n", name);
            }
            return rc;
        });
    });
}

void add_net_prune(CLI::App& parent) {
    auto* cmd = parent.add_subcommand("prune", "Remove every network no container uses");
    static bool force = false;  // accepted for podman's sake
    cmd->add_flag("-f,--force", force, "Do not ask (Bock never asks)");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            for (const auto& n : BOCK_TRY(engine::prune_networks(ctx))) fmt::print("{}\n", n);
            return 0;
        });
    });
}

void add_net_connect(CLI::App& parent) {
    auto* cmd = parent.add_subcommand("connect", "Give a container an address and names on a network (a running one gets its interface now)");
    auto network = std::make_shared<std::string>();
    auto container = std::make_shared<std::string>();
    auto aliases = std::make_shared<std::vector<std::string>>();
    auto ip = std::make_shared<std::string>();
    cmd->add_option("NETWORK", *network, "Network name or id")->required();
    cmd->add_option("CONTAINER", *container, "Container name or id")->required();
    cmd->add_option("--alias", *aliases, "Another name the container answers to on this network (repeatable)");
    cmd->add_option("--ip", *ip, "Its IPv4 address on the network (default: the first free one)");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            BOCK_TRY(engine::connect_network(ctx, *network, *container, *aliases, *ip));
            return 0;
        });
    });
}

void add_net_disconnect(CLI::App& parent) {
    auto* cmd = parent.add_subcommand("disconnect", "Take a container off a network (a running one loses its interface now)");
    auto network = std::make_shared<std::string>();
    auto container = std::make_shared<std::string>();
    cmd->add_option("NETWORK", *network, "Network name or id")->required();
    cmd->add_option("CONTAINER", *container, "Container name or id")->required();
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            BOCK_TRY(engine::disconnect_network(ctx, *network, *container));
            return 0;
        });
    });
}

}  // namespace

void add_network(CLI::App& app) {
    auto* cmd = app.add_subcommand("network", "Manage service networks: create, ls, inspect, rm, prune, connect, disconnect (running containers too); run --network NAME [-p ...]");
    cmd->require_subcommand(1);
    add_net_create(*cmd);
    add_net_ls(*cmd);
    add_net_inspect(*cmd);
    add_net_rm(*cmd);
    add_net_prune(*cmd);
    add_net_connect(*cmd);
    add_net_disconnect(*cmd);
}

}  // namespace bock::cli
