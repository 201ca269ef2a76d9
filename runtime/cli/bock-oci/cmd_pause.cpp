// bock-oci pause ID / resume ID: freezes and thaws every process of a
// container through its cgroup (v1 freezer.state, v2 cgroup.freeze),
// waiting until the kernel reports the state reached. `state` shows a
// frozen container as `paused`. A container without a cgroup (rootless
// without delegation) cannot be paused: an error that says so.
#include "bock/runtime/cgroup.hpp"
#include "bock/runtime/state.hpp"
#include "commands.hpp"

namespace bock::oci {

namespace {

Result<void> set_frozen(const GlobalOptions& g, const std::string& id, bool frozen) {
    std::string root = BOCK_TRY(state_root(g));
    runtime::ContainerState st = BOCK_TRY(runtime::load_state(root, id));
    runtime::Status status = runtime::container_status(root, st);
    if (frozen && status != runtime::Status::running && status != runtime::Status::created)
        return make_error("cannot pause container `{}`: it is {}", id, runtime::status_name(status));
    if (!frozen && status != runtime::Status::paused)
        return make_error("cannot resume container `{}`: it is not paused ({})", id, runtime::status_name(status));
    auto cg = runtime::CgroupPaths::from_json(st.cgroup);
    return runtime::cgroup_freeze(cg, frozen).context(fmt::format("{} container `{}`", frozen ? "pause" : "resume", id));
}

void add(CLI::App& app, const GlobalOptions& g, int& exit_code, const char* name, const char* help, bool frozen) {
    auto* cmd = app.add_subcommand(name, help);
    auto id = std::make_shared<std::string>();
    cmd->add_option("container-id", *id, "the container")->required();
    cmd->callback([&g, id, &exit_code, frozen] {
        auto r = set_frozen(g, *id, frozen);
        exit_code = r ? 0 : fail(r.error());
    });
}

}  // namespace

void add_pause_command(CLI::App& app, const GlobalOptions& g, int& exit_code) {
    add(app, g, exit_code, "pause", "suspend every process of a container (cgroup freezer)", true);
}

void add_resume_command(CLI::App& app, const GlobalOptions& g, int& exit_code) {
    add(app, g, exit_code, "resume", "resume the processes of a paused container", false);
}

}  // namespace bock::oci
