// bock-oci start ID: releases a created container (reads its exec fifo);
// the process goes on to exec the configured command.
#include <signal.h>

#include "bock/runtime/container.hpp"
#include "bock/runtime/hooks.hpp"
#include "bock/runtime/state.hpp"
#include "commands.hpp"

namespace bock::oci {

Result<void> start_created(const runtime::ContainerState& st, const std::string& fifo) {
    // startContainer in the container's namespaces (a failure kills it),
    // then the release, then poststart (failures are warnings).
    runtime::Hooks hooks = runtime::hooks_of_bundle(st.bundle);
    auto state = [&](const char* status) {
        return runtime::hook_state(st.id, status, st.pid, st.bundle, st.annotations, st.oci_version);
    };
    if (auto r = runtime::run_hooks(hooks.start_container, "startContainer", state("created"), st.pid); !r) {
        (void)::kill(st.pid, SIGKILL);
        return r;
    }
    BOCK_TRY(runtime::start_container(fifo, st.pid));
    runtime::run_hooks_warn(hooks.poststart, "poststart", state("running"));
    return ok();
}

namespace {

Result<void> start(const GlobalOptions& g, const std::string& id) {
    std::string root = BOCK_TRY(state_root(g));
    runtime::ContainerState st = BOCK_TRY(runtime::load_state(root, id));
    runtime::Status status = runtime::container_status(root, st);
    if (status != runtime::Status::created)
        return make_error("cannot start container `{}`: it is {}, not created", id, runtime::status_name(status));
    return start_created(st, runtime::exec_fifo_path(root, id)).context(fmt::format("start container `{}`", id));
}

}  // namespace

int start_by_id(const GlobalOptions& g, const std::string& id) {
    auto r = start(g, id);
    return r ? 0 : fail(r.error());
}

void add_start_command(CLI::App& app, const GlobalOptions& g, int& exit_code) {
    auto* cmd = app.add_subcommand("start", "start a created container");
    auto id = std::make_shared<std::string>();
    cmd->add_option("container-id", *id, "the container")->required();
    cmd->callback([&g, id, &exit_code] { exit_code = start_by_id(g, *id); });
}

}  // namespace bock::oci
