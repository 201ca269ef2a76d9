// `bock rename CONTAINER NEW_NAME`: a new, unique name for a container.
#include "bock/engine/system.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_rename(CLI::App& app) {
    auto* cmd = app.add_subcommand("rename", "Rename a container");
    auto key = std::make_shared<std::string>();
    auto name = std::make_shared<std::string>();
    cmd->add_option("CONTAINER", *key, "Container name, id or unique id prefix")->required();
    cmd->add_option("NEW_NAME", *name, "Its new name (refused while another container has it)")->required();
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            BOCK_TRY(engine::rename_container(ctx, *key, *name));
            return 0;
        });
    });
}

}  // namespace bock::cli
