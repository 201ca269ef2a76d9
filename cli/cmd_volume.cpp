// `bock volume create|ls|inspect|rm|prune`: the local driver's volumes
// (docs/volumes.md), podman's command group.
#include <nlohmann/json.hpp>

#include "bock/engine/volumes.hpp"
#include "commands.hpp"

namespace bock::cli {
namespace {

void add_volume_create(CLI::App& parent) {
    auto* cmd = parent.add_subcommand("create", "Create a volume");
    auto req = std::make_shared<engine::VolumeCreateRequest>();
    auto driver = std::make_shared<std::string>("local");
    cmd->add_option("NAME", req->name, "The volume's name (default: a generated one)");
    cmd->add_option("-d,--driver", *driver, "Volume driver (only `local`)");
    cmd->add_option("-o,--opt", req->opts, "Driver option: type=tmpfs|none, device=DIR (with type=none), o=OPTIONS")
        ->allow_extra_args(false);
    cmd->add_option("-l,--label", req->labels, "Set a label (KEY=VALUE)")->allow_extra_args(false);
    cmd->footer("Usage: bock volume create [OPTIONS] [NAME]\n"
                "e.g. --opt type=tmpfs --opt o=size=64m, or --opt type=none --opt o=bind --opt device=/srv/data");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            if (*driver != "local")
                return make_error("volume driver `{}`: only the local driver exists", *driver).with_exit(125);
            auto ctx = BOCK_TRY(engine::open_context());
            auto v = BOCK_TRY(engine::create_volume(ctx, *req));
            fmt::print("{}\n", v.name);
            return 0;
        });
    });
}

void add_volume_ls(CLI::App& parent) {
    auto* cmd = parent.add_subcommand("ls", "List volumes");
    cmd->alias("list");
    auto format = std::make_shared<std::string>("table");
    auto quiet = std::make_shared<bool>(false);
    cmd->add_option("--format", *format, "Output format: table (default) or json")
        ->check(CLI::IsMember({"json", "table"}));
    cmd->add_flag("-q,--quiet", *quiet, "Print the names only");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            auto vols = BOCK_TRY(engine::list_volumes(ctx));
            if (*quiet) {
                for (const auto& v : vols) fmt::print("{}\n", v.name);
            } else if (*format == "json") {
                auto arr = nlohmann::json::array();
                for (const auto& v : vols) arr.push_back(v.describe());
                fmt::print("{}\n", arr.dump(4));
            } else {
                fmt::print("{:<12}{}\n", "DRIVER", "VOLUME NAME");
                for (const auto& v : vols) fmt::print("{:<12}{}\n", v.driver, v.name);
            }
            return 0;
        });
    });
}

void add_volume_inspect(CLI::App& parent) {
    auto* cmd = parent.add_subcommand("inspect", "Show volumes as JSON");
    auto names = std::make_shared<std::vector<std::string>>();
    auto all = std::make_shared<bool>(false);
    cmd->add_option("VOLUME", *names, "Volume names");
    cmd->add_flag("-a,--all", *all, "Every volume");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            if (names->empty() && !*all) return make_error("volume inspect: name a volume, or pass --all").with_exit(125);
            auto ctx = BOCK_TRY(engine::open_context());
            auto arr = nlohmann::json::array();
            int rc = 0;
            if (*all)
                for (const auto& v : BOCK_TRY(engine::list_volumes(ctx))) arr.push_back(v.describe());
            for (const auto& n : *names) {
                auto v = engine::find_volume(ctx, n);
                if (!v) {
                    log::report(v.error());
                    rc = 125;
                    continue;
                }
                arr.push_back(v->describe());
            }
            fmt::print("{}\n", arr.dump(4));
            return rc;
        });
    });
}

void add_volume_rm(CLI::App& parent) {
    auto* cmd = parent.add_subcommand("rm", "Remove volumes (refused while a container uses one)");
    cmd->alias("remove");
    auto names = std::make_shared<std::vector<std::string>>();
    auto force = std::make_shared<bool>(false);
    auto all = std::make_shared<bool>(false);
    cmd->add_option("VOLUME", *names, "Volume names");
    cmd->add_flag("-f,--force", *force, "Remove the containers that use the volume first (as podman)");
    cmd->add_flag("-a,--all", *all, "Remove every volume");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            if (names->empty() && !*all) return make_error("volume rm: name a volume, or pass --all").with_exit(125);
            auto ctx = BOCK_TRY(engine::open_context());
            auto targets = *names;
            if (*all)
                for (const auto& v : BOCK_TRY(engine::list_volumes(ctx))) targets.push_back(v.name);
            int rc = 0;
            for (const auto& n : targets) {
                auto r = engine::remove_volume(ctx, n, *force);
                if (!r) {
                    log::report(r.error());
                    rc = std::max(rc, r.error().exit_status() == 2 ? 2 : 1);
                } else {
                    fmt::print("{}\n", n);
                }
            }
            return rc;
        });
    });
}

void add_volume_prune(CLI::App& parent) {
    auto* cmd = parent.add_subcommand("prune", "Remove every volume no container uses");
    auto force = std::make_shared<bool>(false);
    cmd->add_flag("-f,--force", *force, "Do not ask for confirmation");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            if (!*force && !confirmed("  - all volumes not used by at least one container\n")) return 0;
            auto ctx = BOCK_TRY(engine::open_context());
            for (const auto& n : BOCK_TRY(engine::prune_volumes(ctx))) fmt::print("{}\n", n);
            return 0;
        });
    });
}

}  // namespace

void add_volume(CLI::App& app) {
    auto* group = app.add_subcommand("volume", "Manage volumes: create, ls, inspect, rm, prune");
    group->require_subcommand(1);
    add_volume_create(*group);
    add_volume_ls(*group);
    add_volume_inspect(*group);
    add_volume_rm(*group);
    add_volume_prune(*group);
}

}  // namespace bock::cli
