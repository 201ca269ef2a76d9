#include "bock/frontend/context.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_rmi(CLI::App& app) {
    auto* cmd = app.add_subcommand("rmi", "Remove images from the local store");
    auto names = std::make_shared<std::vector<std::string>>();
    cmd->add_option("IMAGE", *names, "Image names or ids")->required();
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(frontend::open_context());
            int rc = 0;
            for (const auto& n : *names) {
                auto r = ctx.store->remove(n);
                if (!r) {
                    log::report(r.error());
                    rc = 1;
                    continue;
                }
                for (const auto& u : *r) fmt::print("Untagged: {}\n", u);
            }
            return rc;
        });
    });
}

}  // namespace bock::cli
