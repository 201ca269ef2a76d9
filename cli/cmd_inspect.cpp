// `bock inspect [--type container|image] [-f json|TEMPLATE] NAME...`: a
// JSON array of containers (Docker's fields, engine/src/inspect.cpp) and
// images (podman image inspect's), each name looked up as a container
// first, then as an image, as podman does; `bock image inspect` looks up
// images only.
#include <nlohmann/json.hpp>

#include "bock/engine/containers.hpp"
#include "bock/engine/format.hpp"
#include "bock/engine/images.hpp"
#include "bock/engine/inspect.hpp"
#include "commands.hpp"

namespace bock::cli {
namespace {

Result<std::optional<nlohmann::json>> find_container_doc(engine::Context& ctx, const std::string& name) {
    auto c = engine::find_container(ctx, name);
    if (!c) {
        if (c.error().code() == ENOENT) return std::optional<nlohmann::json>{};
        return std::move(c).error();
    }
    return std::optional<nlohmann::json>{engine::inspect_container(ctx, *c)};
}

CLI::App* add_inspect_command(CLI::App& parent, const std::string& name, bool images_only) {
    auto* cmd = parent.add_subcommand(
        name, images_only ? "Show images as JSON (podman image inspect's format)"
                          : "Show containers or images as JSON (Docker's and podman's fields)");
    auto names = std::make_shared<std::vector<std::string>>();
    auto format = std::make_shared<std::string>("json");
    auto type = std::make_shared<std::string>(images_only ? "image" : "all");
    cmd->add_option(images_only ? "IMAGE" : "NAME", *names, images_only ? "Image names or ids" : "Container or image names or ids")
        ->required();
    cmd->add_option("-f,--format", *format, "json (default), or a template such as '{{.State.Status}}' or '{{json .Config}}'");
    if (!images_only)
        cmd->add_option("-t,--type", *type, "Only look for: container, image or all (default)")
            ->check(CLI::IsMember({"container", "image", "all"}));
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            std::optional<engine::Template> tmpl;
            if (*format != "json") tmpl = BOCK_TRY(engine::Template::parse(*format));
            auto ctx = BOCK_TRY(engine::open_context());
            std::vector<nlohmann::json> docs;
            int rc = 0;
            for (const auto& n : *names) {
                std::optional<nlohmann::json> doc;
                if (*type != "image") doc = BOCK_TRY(find_container_doc(ctx, n));
                if (!doc && *type != "container") doc = BOCK_TRY(engine::inspect_image(ctx, n));
                if (!doc) {
                    const char* what = *type == "container" ? "container" : *type == "image" ? "image" : "container or image";
                    log::report(Error(ENOENT, fmt::format("no such {}: {}", what, n)));
                    rc = 125;
                    continue;
                }
                docs.push_back(std::move(*doc));
            }
            if (tmpl) {
                fmt::print("{}", BOCK_TRY(tmpl->render_all(docs)));
            } else {
                fmt::print("{}\n", nlohmann::json(docs).dump(4));
            }
            return rc;
        });
    });
    return cmd;
}

}  // namespace

CLI::App* add_inspect_to(CLI::App& parent, const std::string& name) { return add_inspect_command(parent, name, true); }

void add_inspect(CLI::App& app) { add_inspect_command(app, "inspect", false); }

}  // namespace bock::cli
