// `bock port CONTAINER`: the ports published with -p, in podman's form
// ("80/tcp -> 0.0.0.0:8080"), from the container's record.
#include "bock/engine/containers.hpp"
#include "bock/engine/network.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_port(CLI::App& app) {
    auto* cmd = app.add_subcommand("port", "List a container's published ports");
    auto id = std::make_shared<std::string>();
    cmd->add_option("CONTAINER", *id, "Container name, id or unique id prefix")->required();
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            auto c = BOCK_TRY(engine::find_container(ctx, *id));
            for (const auto& p : c.rec.ports) fmt::print("{}\n", engine::port_text(p));
            return 0;
        });
    });
}

}  // namespace bock::cli
