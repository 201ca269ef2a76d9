// `bock start [-a] [-i] CONTAINER...`: releases created containers and
// starts exited ones again under a new monitor.
#include "bock/engine/lifecycle.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_start(CLI::App& app) {
    auto* cmd = app.add_subcommand("start", "Start one or more containers");
    auto ids = std::make_shared<std::vector<std::string>>();
    auto attach = std::make_shared<bool>(false);
    auto interactive = std::make_shared<bool>(false);
    auto keys = std::make_shared<std::string>("ctrl-p,ctrl-q");
    cmd->add_flag("-a,--attach", *attach, "Attach to the container's output (one container)");
    cmd->add_flag("-i,--interactive", *interactive, "Attach stdin too");
    cmd->add_option("--detach-keys", *keys, "Keys that detach from the container's terminal");
    cmd->add_option("CONTAINER", *ids, "Container names, ids or unique id prefixes")->required();
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            if (*attach || *interactive) {
                if (ids->size() != 1) return make_error("start -a/-i: name one container").with_exit(125);
                engine::AttachOptions ao;
                ao.stdin = *interactive;
                ao.detach_keys = *keys;
                auto code = BOCK_TRY(engine::start_attached(ctx, ids->front(), ao));
                return code.value_or(0);
            }
            return each_container(*ids, [&](const std::string& id) -> Result<std::string> {
                BOCK_TRY(engine::start_container(ctx, id));
                return id;
            });
        });
    });
}

}  // namespace bock::cli
