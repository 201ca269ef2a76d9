// bock logout: removes a registry's entry (or all, --all) from the auth
// file bock login writes.
#include "bock/engine/images.hpp"
#include "commands.hpp"

namespace bock::cli {

void add_logout(CLI::App& app) {
    auto* cmd = app.add_subcommand("logout", "Remove a registry's stored credentials");
    auto authfile = std::make_shared<std::string>();
    auto all = std::make_shared<bool>(false);
    auto registry = std::make_shared<std::string>();
    cmd->add_option("--authfile", *authfile, "Auth file (default: $REGISTRY_AUTH_FILE, else podman's)");
    cmd->add_flag("-a,--all", *all, "Remove the credentials of every registry");
    cmd->add_option("REGISTRY", *registry, "Registry host[:port]");
    cmd->callback([=] {
        guarded([&]() -> Result<int> {
            std::string reg = engine::registry_of(*registry);
            if (!*all && reg.empty()) return make_error("logout: name a registry, or pass --all");
            auto [file, removed] = BOCK_TRY(engine::logout(*all ? "" : reg, *authfile));
            if (*all) {
                fmt::print("Removed login credentials for all registries\n");
                return 0;
            }
            if (!removed) return make_error("not logged into {} (no entry in `{}`)", reg, file);
            fmt::print("Removed login credentials for {}\n", reg);
            return 0;
        });
    });
}

}  // namespace bock::cli
