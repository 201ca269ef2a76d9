// `bock rmi [-f] IMAGE...` (and `bock image rm`).
#include "bock/engine/images.hpp"
#include "commands.hpp"

namespace bock::cli {

CLI::App* add_rmi_to(CLI::App& parent, const std::string& name) {
    auto* cmd = parent.add_subcommand(name, "Remove images from the local store");
    auto names = std::make_shared<std::vector<std::string>>();
    auto force = std::make_shared<bool>(false);
    cmd->add_flag("-f,--force", *force,
                  "Untag an image even when a container uses it (its content stays until the container is removed)");
    cmd->add_option("IMAGE", *names, "Image names or ids")->required();
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            int rc = 0;
            for (const auto& n : *names) {
                auto r = engine::remove_image(ctx, n, *force);
                if (!r) {
                    log::report(r.error());
                    rc = std::max(rc, r.error().exit_status() == 2 ? 2 : 1);
                    continue;
                }
                for (const auto& u : r->untagged) fmt::print("Untagged: {}\n", u);
                for (const auto& d : r->deleted) fmt::print("Deleted: {}\n", d);
            }
            return rc;
        });
    });
    return cmd;
}

void add_rmi(CLI::App& app) { add_rmi_to(app, "rmi"); }

}  // namespace bock::cli
