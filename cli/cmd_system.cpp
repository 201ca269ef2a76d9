// `bock system restart`: after a reboot, starts the containers whose
// restart policy is always or unless-stopped (docs/monitor.md shows a
// systemd user unit and a cron @reboot line for it).
#include "bock/engine/lifecycle.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_system(CLI::App& app) {
    auto* cmd = app.add_subcommand("system", "Manage bock");
    cmd->require_subcommand(1);
    auto* restart = cmd->add_subcommand("restart", "Start the containers whose restart policy is always or unless-stopped");
    restart->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            for (const auto& id : BOCK_TRY(engine::restart_policy_containers(ctx))) fmt::print("{}\n", id);
            return 0;
        });
    });
}

}  // namespace bock::cli
