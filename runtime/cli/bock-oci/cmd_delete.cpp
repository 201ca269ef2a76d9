// bock-oci delete [--force] ID: removes a container's state. A stopped
// container is just forgotten; a created one is killed first (as runc);
// a running one is refused unless --force, which kills it with SIGKILL and
// waits for it to exit (a paused one is thawed so SIGKILL acts). The
// container's cgroup goes with it.
#include <signal.h>

#include "bock/runtime/cgroup.hpp"
#include "bock/runtime/hooks.hpp"
#include "bock/runtime/state.hpp"
#include "commands.hpp"

namespace bock::oci {

namespace {

constexpr int kStopTimeoutMs = 10000;

// What is left in the cgroup (processes of a container without its own pid
// namespace) is killed, then the directories go.
Result<void> remove_cgroup(const runtime::CgroupPaths& cg) {
    if (cg.empty()) return ok();
    if (auto pids = runtime::cgroup_pids(cg)) {
        for (pid_t p : *pids) (void)::kill(p, SIGKILL);
        if (runtime::cgroup_frozen(cg)) (void)runtime::cgroup_freeze(cg, false);
    }
    return runtime::cgroup_remove(cg);
}

Result<void> remove(const GlobalOptions& g, const std::string& id, bool force) {
    std::string root = BOCK_TRY(state_root(g));
    runtime::ContainerState st = BOCK_TRY(runtime::load_state(root, id));
    runtime::Status status = runtime::container_status(root, st);
    auto cg = runtime::CgroupPaths::from_json(st.cgroup);
    if ((status == runtime::Status::running || status == runtime::Status::paused) && !force)
        return make_error("cannot delete container `{}`: it is running", id)
            .with_hint("stop it first (bock-oci kill), or use delete --force");
    if (status != runtime::Status::stopped) {
        if (auto r = runtime::signal_container(st, SIGKILL, true); !r && runtime::process_alive(st)) return r;
        if (status == runtime::Status::paused) (void)runtime::cgroup_freeze(cg, false);  // SIGKILL acts once thawed
        if (!runtime::wait_stopped(st, kStopTimeoutMs))
            return make_error("container `{}`: process {} did not exit after SIGKILL", id, st.pid);
    }
    BOCK_TRY(remove_cgroup(cg));
    BOCK_TRY(runtime::remove_state(root, id));
    // poststop: after the container is gone; a failure is a warning.
    runtime::run_hooks_warn(runtime::hooks_of_bundle(st.bundle).poststop, "poststop",
                            runtime::hook_state(id, "stopped", 0, st.bundle, st.annotations, st.oci_version));
    return ok();
}

}  // namespace

void add_delete_command(CLI::App& app, const GlobalOptions& g, int& exit_code) {
    auto* cmd = app.add_subcommand("delete", "delete a container's state (kill it with --force)");
    auto id = std::make_shared<std::string>();
    auto force = std::make_shared<bool>(false);
    cmd->add_flag("-f,--force", *force, "kill a running container first");
    cmd->add_option("container-id", *id, "the container")->required();
    cmd->callback([&g, id, force, &exit_code] {
        auto r = remove(g, *id, *force);
        exit_code = r ? 0 : fail(r.error());
    });
}

}  // namespace bock::oci
