#include "bock/frontend/containers.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_rm(CLI::App& app) {
    auto* cmd = app.add_subcommand("rm", "Remove exited containers");
    auto ids = std::make_shared<std::vector<std::string>>();
    cmd->add_option("CONTAINER", *ids, "Container ids (or unique prefixes)")->required();
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(frontend::open_context());
            int rc = 0;
            for (const auto& id : *ids) {
                auto r = frontend::remove_container(ctx, id);
                if (!r) {
                    log::report(r.error());
                    rc = 1;
                } else {
                    fmt::print("{}\n", *r);
                }
            }
            return rc;
        });
    });
}

}  // namespace bock::cli
