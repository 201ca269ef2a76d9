// `bock image ls|rm|inspect|tag|prune`: podman's image command group.
#include "bock/engine/images.hpp"
#include "commands.hpp"

namespace bock::cli {

namespace {

void add_prune(CLI::App& parent) {
    auto* cmd = parent.add_subcommand("prune", "Remove dangling images (-a: every image no container uses)");
    auto all = std::make_shared<bool>(false);
    auto force = std::make_shared<bool>(false);
    cmd->add_flag("-a,--all", *all, "Remove every image that no container uses, not only dangling ones");
    cmd->add_flag("-f,--force", *force, "Do not ask (Bock never asks; accepted for podman compatibility)");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            for (const auto& id : BOCK_TRY(engine::prune_images(ctx, *all))) fmt::print("{}\n", id.substr(7));
            return 0;
        });
    });
}

}  // namespace

void add_image(CLI::App& app) {
    auto* group = app.add_subcommand("image", "Manage images: ls, rm, inspect, tag, prune");
    group->require_subcommand(1);
    add_images_to(*group, "ls")->alias("list");
    add_rmi_to(*group, "rm");
    add_inspect_to(*group, "inspect");
    add_tag_to(*group, "tag");
    add_prune(*group);
}

}  // namespace bock::cli
