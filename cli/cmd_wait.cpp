// `bock wait CONTAINER...`: blocks until each has exited; prints the exit codes.
#include "bock/engine/lifecycle.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_wait(CLI::App& app) {
    auto* cmd = app.add_subcommand("wait", "Wait for containers to exit and print their exit codes");
    auto ids = std::make_shared<std::vector<std::string>>();
    cmd->add_option("CONTAINER", *ids, "Container names, ids or unique id prefixes")->required();
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            return each_container(*ids, [&](const std::string& id) -> Result<std::string> {
                return std::to_string(BOCK_TRY(engine::wait_container(ctx, id)));
            });
        });
    });
}

}  // namespace bock::cli
