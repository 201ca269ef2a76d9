// `bock tag SOURCE TARGET...` (and `bock image tag`): more names for one image.
#include "bock/engine/images.hpp"
#include "commands.hpp"

namespace bock::cli {

CLI::App* add_tag_to(CLI::App& parent, const std::string& name) {
    auto* cmd = parent.add_subcommand(name, "Add names to an image");
    auto source = std::make_shared<std::string>();
    auto targets = std::make_shared<std::vector<std::string>>();
    cmd->add_option("SOURCE", *source, "Image name or id")->required();
    cmd->add_option("TARGET", *targets, "New names, NAME[:TAG]")->required();
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            for (const auto& t : *targets) {
                BOCK_TRY(engine::tag_image(ctx, *source, t));
            }
            return 0;
        });
    });
    return cmd;
}

void add_tag(CLI::App& app) { add_tag_to(app, "tag"); }

}  // namespace bock::cli
