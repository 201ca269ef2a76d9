// `bock container prune [-f] [--filter until=TIME]` and `bock system prune
// [-a] [-f]`: remove what is stopped or unused. Without -f they ask first,
// as podman does.
#include <iostream>

#include "bock/engine/system.hpp"
#include "bock/engine/volumes.hpp"
#include "bock/common/strings.hpp"
#include "commands.hpp"

namespace bock::cli {

bool confirmed(const std::string& what) {
    fmt::print("WARNING! This will remove:\n{}Are you sure you want to continue? [y/N] ", what);
    std::fflush(stdout);
    std::string answer;
    std::getline(std::cin, answer);
    return answer == "y" || answer == "Y" || answer == "yes";
}

std::string human_size(uint64_t b) { return strings::human_size(b); }

void add_container_prune(CLI::App& parent) {
    auto* cmd = parent.add_subcommand("prune", "Remove every container that is not running");
    auto force = std::make_shared<bool>(false);
    auto filters = std::make_shared<std::vector<std::string>>();
    cmd->add_flag("-f,--force", *force, "Do not ask for confirmation");
    cmd->add_option("--filter", *filters, "until=TIME: only containers created before TIME (unix seconds, RFC 3339, or 10m/2h ago)");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            std::optional<int64_t> until;
            for (const auto& f : *filters) {
                if (!f.starts_with("until="))
                    return make_error("unsupported filter `{}`", f).with_hint("use --filter until=TIME").with_exit(125);
                until = BOCK_TRY(engine::parse_time_arg(f.substr(6)));
            }
            if (!*force && !confirmed("  - all stopped containers\n")) return 0;
            auto ctx = BOCK_TRY(engine::open_context());
            for (const auto& id : BOCK_TRY(engine::prune_containers(ctx, until))) fmt::print("{}\n", id);
            return 0;
        });
    });
}

void add_system_prune(CLI::App& parent) {
    auto* cmd = parent.add_subcommand("prune", "Remove stopped containers and dangling (-a: all unused) images");
    auto force = std::make_shared<bool>(false);
    auto all = std::make_shared<bool>(false);
    auto volumes = std::make_shared<bool>(false);
    cmd->add_flag("-f,--force", *force, "Do not ask for confirmation");
    cmd->add_flag("-a,--all", *all, "Remove every image no container uses, not only dangling ones");
    cmd->add_flag("--volumes", *volumes, "Remove the volumes no container uses too");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            std::string what = *all ? "  - all stopped containers\n  - all images without at least one container associated to them\n"
                                    : "  - all stopped containers\n  - all dangling images\n";
            if (*volumes) what += "  - all volumes not used by at least one container\n";
            if (!*force && !confirmed(what))
                return 0;
            auto ctx = BOCK_TRY(engine::open_context());
            auto r = BOCK_TRY(engine::system_prune(ctx, *all));
            if (!r.containers.empty()) fmt::print("Deleted Containers\n");
            for (const auto& id : r.containers) fmt::print("{}\n", id);
            if (!r.images.empty()) fmt::print("Deleted Images\n");
            for (const auto& id : r.images) fmt::print("{}\n", id);
            if (*volumes) {
                auto vols = BOCK_TRY(engine::prune_volumes(ctx));
                if (!vols.empty()) fmt::print("Deleted Volumes\n");
                for (const auto& n : vols) fmt::print("{}\n", n);
            }
            fmt::print("Total reclaimed space: {}\n", human_size(r.reclaimed));
            return 0;
        });
    });
}

}  // namespace bock::cli
