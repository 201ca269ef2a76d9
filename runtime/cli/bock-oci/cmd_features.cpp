// bock-oci features: what this runtime supports, as the runtime-spec's
// features.md JSON document (engines read it to decide what to ask for).
#include <cstdio>

#include "bock/runtime/features.hpp"
#include "commands.hpp"

namespace bock::oci {

void add_features_command(CLI::App& app, const GlobalOptions&, int& exit_code) {
    auto* cmd = app.add_subcommand("features", "print the features this runtime supports (JSON)");
    cmd->callback([&exit_code] {
        std::string text = runtime::features().dump(4) + "\n";
        exit_code = std::fwrite(text.data(), 1, text.size(), stdout) == text.size() ? 0 : 1;
    });
}

}  // namespace bock::oci
