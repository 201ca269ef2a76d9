// `bock container cleanup ID`: what a container's monitor execs when the
// container has exited (docs/monitor.md). Usable by hand; idempotent.
#include "bock/engine/lifecycle.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_container(CLI::App& app) {
    auto* cmd = app.add_subcommand("container", "Manage containers: prune, cleanup (the monitor's exit command)");
    cmd->require_subcommand(1);
    add_container_prune(*cmd);
    auto* cleanup = cmd->add_subcommand("cleanup", "Record a container's exit, unmount it, apply its restart policy");
    auto id = std::make_shared<std::string>();
    cleanup->add_option("ID", *id, "Container id")->required();
    cleanup->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            BOCK_TRY(engine::cleanup_container(ctx, *id));
            return 0;
        });
    });
}

}  // namespace bock::cli
