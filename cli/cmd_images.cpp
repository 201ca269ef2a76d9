// `bock images` (and `bock image ls`): one row per name, dangling images
// as <none>; --format json gives one object per image, as podman does.
#include <set>

#include "bock/common/time.hpp"
#include "bock/engine/images.hpp"
#include "commands.hpp"

namespace bock::cli {

CLI::App* add_images_to(CLI::App& parent, const std::string& name) {
    auto* cmd = parent.add_subcommand(name, "List images in the local store");
    auto quiet = std::make_shared<bool>(false);
    auto all = std::make_shared<bool>(false);
    auto format = std::make_shared<std::string>();
    cmd->add_flag("-q,--quiet", *quiet, "Show only image ids");
    cmd->add_flag("-a,--all", *all, "Show all images (Bock has no intermediate images: the same list)");
    cmd->add_option("--format", *format, "Output format: json or table")->check(CLI::IsMember({"json", "table"}));
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            if (*format == "json") {
                fmt::print("{}\n", BOCK_TRY(engine::images_json(ctx)).dump(2));
                return 0;
            }
            auto images = BOCK_TRY(engine::list_images(ctx));
            if (*quiet) {
                std::set<std::string> seen;
                for (const auto& i : images)
                    if (seen.insert(i.config.hex).second) fmt::print("{}\n", i.config.hex.substr(0, 12));
                return 0;
            }
            fmt::print("{:<40} {:<12} {:<14} {:<24} {}\n", "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE");
            for (const auto& i : images) {
                auto [repo, tag] = engine::repository_and_tag(i);
                fmt::print("{:<40} {:<12} {:<14} {:<24} {}\n", repo, tag, i.config.hex.substr(0, 12),
                           time::ago(i.created), human_size(i.size));
            }
            return 0;
        });
    });
    return cmd;
}

void add_images(CLI::App& app) { add_images_to(app, "images"); }

}  // namespace bock::cli
