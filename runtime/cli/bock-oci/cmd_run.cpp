// bock-oci run [--bundle DIR] [--pid-file F] [--detach] ID
//
// In the foreground: create, start and wait for the container; exits with
// its exit code (125 when bock-oci failed, 126/127 when the command cannot
// be executed). With --detach: create and start it, record its state under
// --root as `create` does, and exit 0 (1 on an error).
#include "bock/common/log.hpp"
#include "bock/runtime/container.hpp"
#include "bock/runtime/spec.hpp"
#include "commands.hpp"

namespace bock::oci {

namespace {

struct RunArgs {
    CreateArgs create;
    bool detach = false;
};

int run_foreground(const RunArgs& a) {
    if (auto fds = check_preserved_fds(a.create.preserve_fds); !fds) {
        log::report(fds.error());
        return fds.error().exit_status();
    }
    auto spec = runtime::load_spec(a.create.bundle);
    if (!spec) {
        log::report(spec.error());
        return spec.error().exit_status();
    }
    runtime::RunOptions opts;
    opts.id = a.create.id;
    opts.bundle = a.create.bundle;
    opts.rootless = is_rootless();
    opts.pid_file = a.create.pid_file;
    opts.console_socket = a.create.console_socket;
    opts.preserve_fds = a.create.preserve_fds;
    auto code = runtime::run_container(*spec, opts);
    if (!code) {
        log::report(code.error());
        return code.error().exit_status();
    }
    return *code;
}

}  // namespace

void add_run_command(CLI::App& app, const GlobalOptions& g, int& exit_code) {
    auto* cmd = app.add_subcommand("run", "create and run a container, and wait for it to exit (or --detach)");
    auto a = std::make_shared<RunArgs>();
    cmd->add_option("-b,--bundle", a->create.bundle, "path to the bundle directory (config.json and root filesystem)");
    cmd->add_option("--pid-file", a->create.pid_file, "write the container process's pid to this file");
    cmd->add_flag("-d,--detach", a->detach, "start the container and exit, leaving it running");
    cmd->add_option("--console-socket", a->create.console_socket, "unix socket to receive the pty master");
    cmd->add_flag("--no-pivot", a->create.no_pivot, "accepted for runc compatibility");
    cmd->add_flag("--no-new-keyring", a->create.no_new_keyring, "accepted for runc compatibility");
    cmd->add_option("--preserve-fds", a->create.preserve_fds, "pass fds 3..3+N-1 to the container process");
    cmd->add_option("container-id", a->create.id, "a name for the container")->required();
    cmd->callback([&g, a, &exit_code] {
        exit_code = a->detach ? create_and_maybe_start(g, a->create, true) : run_foreground(*a);
    });
}

}  // namespace bock::oci
