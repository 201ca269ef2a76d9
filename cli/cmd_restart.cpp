// `bock restart [-t N] CONTAINER...`: stop, then start.
#include "bock/engine/lifecycle.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_restart(CLI::App& app) {
    auto* cmd = app.add_subcommand("restart", "Restart one or more containers");
    auto ids = std::make_shared<std::vector<std::string>>();
    auto timeout = std::make_shared<int>(-1);
    cmd->add_option("-t,--time", *timeout, "Seconds to wait before SIGKILL");
    cmd->add_option("CONTAINER", *ids, "Container names, ids or unique id prefixes")->required();
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            std::optional<int> t;
            if (*timeout >= 0) t = *timeout;
            return each_container(*ids, [&](const std::string& id) -> Result<std::string> {
                BOCK_TRY(engine::stop_container(ctx, id, t));
                BOCK_TRY(engine::start_container(ctx, id));
                return id;
            });
        });
    });
}

}  // namespace bock::cli
