// bock-oci kill [--all] ID [SIGNAL]: sends a signal (a name such as TERM,
// SIGTERM, KILL or a number; default SIGTERM) to the container's process,
// or with --all to every process of its pid namespace.
#include "bock/runtime/state.hpp"
#include "commands.hpp"

namespace bock::oci {

namespace {

struct KillArgs {
    std::string id;
    std::string signal = "SIGTERM";
    bool all = false;
};

Result<void> kill(const GlobalOptions& g, const KillArgs& a) {
    std::string root = BOCK_TRY(state_root(g));
    int sig = BOCK_TRY(runtime::parse_signal(a.signal));
    runtime::ContainerState st = BOCK_TRY(runtime::load_state(root, a.id));
    if (runtime::container_status(root, st) == runtime::Status::stopped)
        return make_error("container `{}` is not running", a.id);
    return runtime::signal_container(st, sig, a.all);
}

}  // namespace

void add_kill_command(CLI::App& app, const GlobalOptions& g, int& exit_code) {
    auto* cmd = app.add_subcommand("kill", "send a signal to a container's process");
    auto a = std::make_shared<KillArgs>();
    cmd->add_flag("-a,--all", a->all, "signal every process of the container");
    cmd->add_option("container-id", a->id, "the container")->required();
    cmd->add_option("signal", a->signal, "a signal name (TERM, SIGKILL) or number; default SIGTERM");
    cmd->callback([&g, a, &exit_code] {
        auto r = kill(g, *a);
        exit_code = r ? 0 : fail(r.error());
    });
}

}  // namespace bock::oci
