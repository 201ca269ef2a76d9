// bock-oci state ID: the runtime-spec state of a container as JSON
// (ociVersion, id, status created|running|stopped, pid, bundle,
// annotations).
#include <iostream>

#include "bock/runtime/state.hpp"
#include "commands.hpp"

namespace bock::oci {

namespace {

Result<void> show_state(const GlobalOptions& g, const std::string& id) {
    std::string root = BOCK_TRY(state_root(g));
    runtime::ContainerState st = BOCK_TRY(runtime::load_state(root, id));
    std::cout << runtime::state_json(st, runtime::container_status(root, st)).dump(2) << "\n";
    return ok();
}

}  // namespace

void add_state_command(CLI::App& app, const GlobalOptions& g, int& exit_code) {
    auto* cmd = app.add_subcommand("state", "print the state of a container as JSON");
    auto id = std::make_shared<std::string>();
    cmd->add_option("container-id", *id, "the container")->required();
    cmd->callback([&g, id, &exit_code] {
        auto r = show_state(g, *id);
        exit_code = r ? 0 : fail(r.error());
    });
}

}  // namespace bock::oci
