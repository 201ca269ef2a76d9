// `bock inspect IMAGE...` (and `bock image inspect`): a JSON array like
// `podman image inspect`.
#include <nlohmann/json.hpp>

#include "bock/engine/images.hpp"
#include "commands.hpp"

namespace bock::cli {

CLI::App* add_inspect_to(CLI::App& parent, const std::string& name) {
    auto* cmd = parent.add_subcommand(name, "Show images as JSON (podman image inspect's format)");
    auto names = std::make_shared<std::vector<std::string>>();
    auto format = std::make_shared<std::string>("json");
    cmd->add_option("IMAGE", *names, "Image names or ids")->required();
    cmd->add_option("-f,--format", *format, "Output format: json")->check(CLI::IsMember({"json"}));
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            auto arr = nlohmann::json::array();
            int rc = 0;
            for (const auto& n : *names) {
                auto doc = BOCK_TRY(engine::inspect_image(ctx, n));
                if (!doc) {
                    log::report(Error(ENOENT, fmt::format("no such image: {}", n)));
                    rc = 125;
                    continue;
                }
                arr.push_back(std::move(*doc));
            }
            fmt::print("{}\n", arr.dump(4));
            return rc;
        });
    });
    return cmd;
}

void add_inspect(CLI::App& app) { add_inspect_to(app, "inspect"); }

}  // namespace bock::cli
