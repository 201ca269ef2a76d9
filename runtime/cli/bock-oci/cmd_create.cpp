// bock-oci create [--bundle DIR] [--pid-file F] [--console-socket S]
//   [--no-pivot] [--no-new-keyring] [--preserve-fds N] ID
//
// Sets the container up and leaves its process blocked before exec (on
// <root>/<id>/exec.fifo) in state `created`; `start` releases it. This
// process then exits: the container's process is reparented to the
// caller's subreaper (the engine's monitor), as with runc.
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <ctime>

#include "bock/common/log.hpp"
#include "bock/common/time.hpp"
#include "bock/runtime/cgroup.hpp"
#include "bock/runtime/container.hpp"
#include "bock/runtime/spec.hpp"
#include "bock/runtime/state.hpp"
#include "commands.hpp"

namespace bock::oci {

namespace {

std::string now_rfc3339() { return time::rfc3339_ns(time::now_ns()); }

Result<std::string> absolute_bundle(const std::string& bundle) {
    char* p = ::realpath(bundle.c_str(), nullptr);
    if (!p) return errno_error("bundle `{}`", bundle);
    std::string out = p;
    ::free(p);
    return out;
}

// What this runtime cannot do yet is refused before anything is touched.
Result<void> check_supported(const runtime::Spec& spec, const CreateArgs& a) {
    (void)spec;
    BOCK_TRY(check_preserved_fds(a.preserve_fds));
    if (a.no_pivot) log::debug("--no-pivot: ignored, pivot_root is always used");
    if (a.no_new_keyring) log::debug("--no-new-keyring: ignored, no session keyring is created");
    return ok();
}

Result<void> create(const GlobalOptions& g, const CreateArgs& a, bool start_too) {
    std::string root = BOCK_TRY(state_root(g));
    std::string bundle = BOCK_TRY(absolute_bundle(a.bundle));
    runtime::Spec spec = BOCK_TRY(runtime::load_spec(bundle));
    BOCK_TRY(check_supported(spec, a));
    BOCK_TRY(runtime::make_state_dir(root, a.id));

    runtime::RunOptions opts;
    opts.id = a.id;
    opts.bundle = bundle;
    opts.rootless = is_rootless();
    opts.forward_signals = false;
    opts.pid_file = a.pid_file;
    opts.console_socket = a.console_socket;
    opts.preserve_fds = a.preserve_fds;
    std::string fifo = runtime::exec_fifo_path(root, a.id);
    auto proc = runtime::create_container(spec, opts, fifo);
    if (!proc) {
        (void)runtime::remove_state(root, a.id);
        return std::move(proc.error());
    }

    runtime::ContainerState st;
    st.id = a.id;
    st.oci_version = spec.oci_version;
    st.bundle = bundle;
    st.created = now_rfc3339();
    st.pid = proc->pid;
    st.start_time = proc->start_time;
    st.rootless = opts.rootless;
    st.owner = ::getuid();
    st.annotations = spec.annotations;
    st.cgroup = proc->cgroup.to_json();
    if (auto r = runtime::save_state(root, st); !r) {
        (void)::kill(proc->pid, SIGKILL);
        (void)runtime::cgroup_remove(proc->cgroup);  // retries while the process exits
        (void)runtime::remove_state(root, a.id);
        return r;
    }
    if (start_too) BOCK_TRY(start_created(st, fifo));
    return ok();
}

}  // namespace

int create_and_maybe_start(const GlobalOptions& g, const CreateArgs& a, bool start_too) {
    auto r = create(g, a, start_too);
    return r ? 0 : fail(r.error());
}

void add_create_command(CLI::App& app, const GlobalOptions& g, int& exit_code) {
    auto* cmd = app.add_subcommand("create", "create a container, its process waiting for `start`");
    auto a = std::make_shared<CreateArgs>();
    cmd->add_option("-b,--bundle", a->bundle, "path to the bundle directory (config.json and root filesystem)");
    cmd->add_option("--pid-file", a->pid_file, "write the container process's pid to this file");
    cmd->add_option("--console-socket", a->console_socket, "unix socket to receive the pty master (terminal: true)");
    cmd->add_flag("--no-pivot", a->no_pivot, "accepted for runc compatibility (pivot_root is always used)");
    cmd->add_flag("--no-new-keyring", a->no_new_keyring, "accepted for runc compatibility");
    cmd->add_option("--preserve-fds", a->preserve_fds, "pass fds 3..3+N-1 to the container process");
    cmd->add_option("container-id", a->id, "a name for the container")->required();
    cmd->callback([&g, a, &exit_code] { exit_code = create_and_maybe_start(g, *a, false); });
}

}  // namespace bock::oci
