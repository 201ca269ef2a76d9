#include "bock/frontend/containers.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_ps(CLI::App& app) {
    auto* cmd = app.add_subcommand("ps", "List containers");
    auto all = std::make_shared<bool>(false);
    auto quiet = std::make_shared<bool>(false);
    cmd->add_flag("-a,--all", *all, "Show exited containers too");
    cmd->add_flag("-q,--quiet", *quiet, "Show only ids");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(frontend::open_context());
            auto list = BOCK_TRY(frontend::list_containers(ctx));
            if (!*quiet)
                fmt::print("{:<14} {:<32} {:<24} {}\n", "CONTAINER ID", "IMAGE", "COMMAND", "STATUS");
            for (const auto& c : list) {
                if (!*all && c.status != "running") continue;
                if (*quiet) {
                    fmt::print("{}\n", c.id.substr(0, 12));
                    continue;
                }
                std::string status = c.status == "exited" ? fmt::format("Exited ({})", c.exit_code) : "Up";
                fmt::print("{:<14} {:<32} {:<24} {}\n", c.id.substr(0, 12), c.image,
                           "\"" + c.command.substr(0, 20) + "\"", status);
            }
            return 0;
        });
    });
}

}  // namespace bock::cli
