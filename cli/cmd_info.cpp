// `bock info [--format json]`: what bock does on this machine — rootless or
// root, id mappings, cgroups and whether limits hold, the store, the
// defaults (storage driver, network), where helpers are looked up.
#include "bock/engine/info.hpp"
#include "commands.hpp"

namespace bock::cli {
namespace {

// podman info's shape: nested keys, two spaces per level.
void print_tree(const nlohmann::ordered_json& j, int depth) {
    std::string pad(static_cast<size_t>(depth) * 2, ' ');
    for (const auto& [k, v] : j.items()) {
        if (v.is_object()) {
            fmt::print("{}{}:\n", pad, k);
            print_tree(v, depth + 1);
        } else if (v.is_array()) {
            fmt::print("{}{}:\n", pad, k);
            for (const auto& e : v) fmt::print("{}  - {}\n", pad, e.is_string() ? e.get<std::string>() : e.dump());
        } else {
            fmt::print("{}{}: {}\n", pad, k, v.is_string() ? v.get<std::string>() : v.dump());
        }
    }
}

}  // namespace

void add_info(CLI::App& app) {
    auto* cmd = app.add_subcommand("info", "Show how bock runs on this machine");
    auto format = std::make_shared<std::string>("text");
    cmd->add_option("-f,--format", *format, "text (default) or json")->check(CLI::IsMember({"text", "json"}));
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            auto ctx = BOCK_TRY(engine::open_context());
            auto info = BOCK_TRY(engine::system_info(ctx));
            if (*format == "json")
                fmt::print("{}\n", info.dump(2));
            else
                print_tree(info, 0);
            return 0;
        });
    });
}

}  // namespace bock::cli
