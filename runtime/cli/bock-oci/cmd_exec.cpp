// bock-oci exec [--process FILE] [-t] [--console-socket S] [-d] [--pid-file F]
//   [-e K=V]... [--cwd D] [-u UID[:GID]] [-g GID]... [-c CAP]... [--no-new-privs]
//   [--preserve-fds N] [--apparmor P] [--process-label L] ID [CMD [ARGS...]]
//
// Runs a process in a created or running container, as runc exec: from a
// runtime-spec Process JSON (--process, what conmon and containerd write),
// or config.json's process overlaid by the flags. In the foreground it
// exits with the process's code (126/127 when the command cannot be
// executed, 125 when bock-oci failed); with --detach it exits 0 once the
// process is running (1 on an error), leaving it to the caller's subreaper.
#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/runtime/exec.hpp"
#include "bock/runtime/state.hpp"
#include "commands.hpp"

namespace bock::oci {

namespace {

struct ExecArgs {
    std::string process_file;
    runtime::ExecFlags flags;
    runtime::ExecOptions opts;
    std::string apparmor, label, cgroup;
    bool ignore_paused = false;
};

Result<runtime::Process> exec_process(const runtime::ContainerState& st, const ExecArgs& a) {
    if (!a.process_file.empty()) {
        if (!a.flags.args.empty())
            return make_error("exec: give the command in --process `{}` or on the command line, not both",
                              a.process_file);
        auto text = BOCK_TRY_CTX(fs::read_file(a.process_file), "read --process");
        return runtime::parse_process_json(text, a.process_file);
    }
    runtime::Spec spec = BOCK_TRY_CTX(runtime::load_spec(st.bundle), fmt::format("exec in container `{}`", st.id));
    return runtime::overlay_exec_flags(spec.process, a.flags);
}

Result<int> exec(const GlobalOptions& g, ExecArgs& a, std::vector<std::string> rest) {
    BOCK_TRY(check_preserved_fds(a.opts.preserve_fds));
    if (!rest.empty() && rest[0] == "--") rest.erase(rest.begin());
    if (rest.empty()) return make_error("exec: a container id is needed");
    std::string id = rest[0];
    a.flags.args.assign(rest.begin() + 1, rest.end());
    if (!a.flags.args.empty() && a.flags.args[0] == "--") a.flags.args.erase(a.flags.args.begin());
    if (!a.apparmor.empty() || !a.label.empty())
        log::debug("--apparmor/--process-label: accepted; not applied on this host");
    if (!a.cgroup.empty()) log::debug("--cgroup `{}`: ignored; the process joins the container's cgroups", a.cgroup);
    std::string root = BOCK_TRY(state_root(g));
    runtime::ContainerState st = BOCK_TRY(runtime::load_state(root, id));
    runtime::Process proc = BOCK_TRY(exec_process(st, a));
    a.opts.rootless = is_rootless();
    a.opts.proxy_stdin = true;  // runc's proxy copies stdin too
    return runtime::exec_in_container(st, proc, a.opts);
}

}  // namespace

void add_exec_command(CLI::App& app, const GlobalOptions& g, int& exit_code) {
    auto* cmd = app.add_subcommand("exec", "run a process in a created or running container");
    auto a = std::make_shared<ExecArgs>();
    // Everything from the container id on is ID CMD ARGS... (options of the
    // command are not bock-oci's).
    cmd->prefix_command();
    cmd->add_option("-p,--process", a->process_file, "a runtime-spec Process JSON file describing the process");
    cmd->add_flag("-t,--tty", a->flags.tty, "give the process a pty (sent to --console-socket; without one, bock-oci proxies it to its own stdio)");
    cmd->add_option("--console-socket", a->opts.console_socket, "unix socket to receive the pty master");
    cmd->add_flag("-d,--detach", a->opts.detach, "exit once the process runs, leaving it running");
    cmd->add_option("--pid-file", a->opts.pid_file, "write the process's pid to this file");
    cmd->add_option("-e,--env", a->flags.env, "set an environment variable K=V (repeatable)")
        ->allow_extra_args(false);
    cmd->add_option("--cwd", a->flags.cwd, "working directory inside the container");
    cmd->add_option("-u,--user", a->flags.user, "UID[:GID] to run as");
    cmd->add_option("-g,--additional-gids", a->flags.additional_gids, "an additional group id (repeatable)")
        ->allow_extra_args(false);
    cmd->add_option("-c,--cap", a->flags.caps, "add a capability (repeatable)")
        ->allow_extra_args(false);
    cmd->add_flag("--no-new-privs", a->flags.no_new_privs, "set no_new_privs for the process");
    cmd->add_option("--preserve-fds", a->opts.preserve_fds, "pass fds 3..3+N-1 to the process");
    cmd->add_option("--apparmor", a->apparmor, "accepted for runc compatibility");
    cmd->add_option("--process-label", a->label, "accepted for runc compatibility");
    cmd->add_option("--cgroup", a->cgroup, "accepted for runc compatibility");
    cmd->add_flag("--ignore-paused", a->ignore_paused, "accepted for runc compatibility");
    cmd->callback([&g, a, cmd, &exit_code] {
        auto code = exec(g, *a, cmd->remaining());
        if (code) exit_code = *code;
        else if (a->opts.detach) exit_code = fail(code.error());
        else {
            log::report(code.error());
            exit_code = code.error().exit_status();
        }
    });
}

}  // namespace bock::oci
