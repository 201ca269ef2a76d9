// `bock diff [--format json] CONTAINER`, like podman diff: one "A|C|D PATH"
// line per path the container added, changed or deleted.
#include <nlohmann/json.hpp>

#include "bock/engine/commit.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_diff(CLI::App& app) {
    auto* cmd = app.add_subcommand("diff", "Show the paths a container added (A), changed (C) or deleted (D)");
    auto container = std::make_shared<std::string>();
    auto format = std::make_shared<std::string>();
    cmd->add_option("--format", *format, "json: {\"added\": [...], \"changed\": [...], \"deleted\": [...]}");
    cmd->add_option("CONTAINER", *container, "Container name or id")->required();
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            if (!format->empty() && *format != "json")
                return make_error("unknown --format `{}`", *format).with_hint("use --format json, or no --format");
            auto ctx = BOCK_TRY(engine::open_context());
            auto changes = BOCK_TRY(engine::diff_container(ctx, *container));
            if (*format == "json") {
                nlohmann::json j = nlohmann::json::object();
                for (const auto& c : changes) {
                    const char* k = c.kind == 'A' ? "added" : c.kind == 'D' ? "deleted" : "changed";
                    j[k].push_back(c.path);
                }
                fmt::print("{}\n", j.dump(4));
                return 0;
            }
            for (const auto& c : changes) fmt::print("{} {}\n", c.kind, c.path);
            return 0;
        });
    });
}

}  // namespace bock::cli
