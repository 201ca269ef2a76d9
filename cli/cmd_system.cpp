// `bock system df [-v] [--format json]`, `bock system prune` and `bock
// container prune` (the parents of cmd_prune.cpp's commands).
#include "bock/common/time.hpp"
#include "bock/engine/lifecycle.hpp"
#include "bock/engine/system.hpp"
#include "commands.hpp"

namespace bock::cli {
namespace {

std::string pct(uint64_t part, uint64_t whole) {
    return whole ? fmt::format("{} ({}%)", human_size(part), part * 100 / whole) : human_size(part) + " (0%)";
}

void add_df(CLI::App& parent) {
    auto* cmd = parent.add_subcommand("df", "Show the disk space images and containers take");
    auto verbose = std::make_shared<bool>(false);
    auto format = std::make_shared<std::string>();
    cmd->add_flag("-v,--verbose", *verbose, "One line per image and container");
    cmd->add_option("--format", *format, "json: the rows (and, with -v, every image and container) as JSON");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            if (!format->empty() && *format != "json")
                return make_error("--format `{}`: only json is supported", *format).with_exit(125);
            auto ctx = BOCK_TRY(engine::open_context());
            auto df = BOCK_TRY(engine::system_df(ctx));
            if (*format == "json") {
                nlohmann::json rows = nlohmann::json::array();
                for (const auto& r : df.rows)
                    rows.push_back({{"Type", r.type}, {"Total", r.total}, {"Active", r.active}, {"RawSize", r.size},
                                    {"RawReclaimable", r.reclaimable}, {"Size", human_size(r.size)},
                                    {"Reclaimable", pct(r.reclaimable, r.size)}});
                if (!*verbose) {
                    fmt::print("{}\n", rows.dump(4));
                    return 0;
                }
                nlohmann::json imgs = nlohmann::json::array(), ctrs = nlohmann::json::array();
                for (const auto& i : df.images)
                    imgs.push_back({{"Repository", i.name}, {"ImageID", i.id}, {"Size", i.size}, {"SharedSize", i.shared},
                                    {"Containers", i.containers}});
                for (const auto& c : df.containers)
                    ctrs.push_back({{"ContainerID", c.id}, {"Names", c.name}, {"Image", c.image}, {"Size", c.size},
                                    {"Status", c.status}, {"Created", c.created}});
                fmt::print("{}\n", nlohmann::json{{"Summary", rows}, {"Images", imgs}, {"Containers", ctrs}}.dump(4));
                return 0;
            }
            if (*verbose) {
                fmt::print("Images space usage:\n\n{:<40} {:<14} {:<10} {:<12} {}\n", "REPOSITORY", "IMAGE ID", "SIZE",
                           "SHARED SIZE", "CONTAINERS");
                for (const auto& i : df.images)
                    fmt::print("{:<40} {:<14} {:<10} {:<12} {}\n", i.name, i.id.substr(0, 12), human_size(i.size),
                               human_size(i.shared), i.containers);
                fmt::print("\nContainers space usage:\n\n{:<14} {:<30} {:<24} {:<10} {}\n", "CONTAINER ID", "IMAGE", "NAMES",
                           "SIZE", "STATUS");
                for (const auto& c : df.containers)
                    fmt::print("{:<14} {:<30} {:<24} {:<10} {}\n", c.id.substr(0, 12), c.image, c.name, human_size(c.size),
                               c.status);
                fmt::print("\nLocal Volumes space usage:\n\n{:<66} {:<6} {}\n", "VOLUME NAME", "LINKS", "SIZE");
                for (const auto& v : df.volumes) fmt::print("{:<66} {:<6} {}\n", v.name, v.used ? 1 : 0, human_size(v.size));
                return 0;
            }
            fmt::print("{:<16}{:<8}{:<8}{:<12}{}\n", "TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE");
            for (const auto& r : df.rows)
                fmt::print("{:<16}{:<8}{:<8}{:<12}{}\n", r.type, r.total, r.active, human_size(r.size),
                           pct(r.reclaimable, r.size));
            return 0;
        });
    });
}

}  // namespace

void add_system(CLI::App& app) {
    auto* sys = app.add_subcommand("system", "Disk usage, cleanup and restart after a reboot: system df, prune, restart");
    sys->require_subcommand(1);
    add_df(*sys);
    add_system_prune(*sys);
    auto* restart = sys->add_subcommand("restart", "Start the containers whose restart policy is always or unless-stopped");
    restart->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            for (const auto& id : BOCK_TRY(engine::restart_policy_containers(ctx))) fmt::print("{}\n", id);
            return 0;
        });
    });
}

}  // namespace bock::cli
