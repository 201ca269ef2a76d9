// `bock kill [-s SIGNAL] CONTAINER...`: one signal to each container's PID 1.
#include "bock/engine/lifecycle.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_kill(CLI::App& app) {
    auto* cmd = app.add_subcommand("kill", "Send a signal to one or more containers");
    auto ids = std::make_shared<std::vector<std::string>>();
    auto sig = std::make_shared<std::string>("KILL");
    cmd->add_option("-s,--signal", *sig, "Signal to send (name or number, default KILL)");
    cmd->add_option("CONTAINER", *ids, "Container names, ids or unique id prefixes")->required();
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            int s = BOCK_TRY(engine::parse_signal_name(*sig));
            auto ctx = BOCK_TRY(engine::open_context());
            return each_container(*ids, [&](const std::string& id) -> Result<std::string> {
                BOCK_TRY(engine::kill_container(ctx, id, s));
                return id;
            });
        });
    });
}

}  // namespace bock::cli
