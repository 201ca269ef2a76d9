// `bock pause CONTAINER...` / `bock unpause CONTAINER...`: freeze and thaw
// every process of running containers through their cgroup
// (engine/include/bock/engine/pause.hpp). Prints each id done; the first
// failure is reported and the others are still tried (podman's habit).
#include "bock/engine/pause.hpp"
#include "commands.hpp"

namespace bock::cli {
namespace {

void add_one(CLI::App& app, const char* name, const char* help, bool pause) {
    auto* cmd = app.add_subcommand(name, help);
    auto keys = std::make_shared<std::vector<std::string>>();
    cmd->add_option("CONTAINER", *keys, "Container names, ids or unique id prefixes")->required();
    cmd->footer(pause ? "Needs the container's cgroup: as root, or rootless on cgroup v2 with systemd delegation "
                        "(rootless on cgroup v1 is refused, as podman does)."
                      : "");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            std::optional<Error> first;
            for (const auto& key : *keys) {
                auto r = pause ? engine::pause_container(ctx, key) : engine::unpause_container(ctx, key);
                if (r) {
                    fmt::print("{}\n", *r);
                } else if (!first) {
                    first = std::move(r.error());
                } else {
                    log::report(r.error());
                }
            }
            if (first) return std::move(*first);
            return 0;
        });
    });
}

}  // namespace

void add_pause(CLI::App& app) {
    add_one(app, "pause", "Pause all processes of running containers (cgroup freezer)", true);
    add_one(app, "unpause", "Resume the processes of paused containers", false);
}

}  // namespace bock::cli
