// bock-oci: Bock's OCI runtime, with runc's command line. Today: create,
// start, state, kill, delete, list, run, spec, exec.
#include <fcntl.h>
#include <unistd.h>

#include <string_view>
#include <utility>

#include <CLI/CLI.hpp>

#include "bock/common/log.hpp"
#include "bock/runtime/features.hpp"
#include "bock/runtime/sealed_exe.hpp"
#include "commands.hpp"

int main(int argc, char** argv) {
    using namespace bock;
    log::set_program("bock-oci");
    // First, before anything else runs: the commands that put a process into
    // a container re-execute from a sealed memfd (CVE-2019-5736).
    if (oci::needs_sealed_exe(argc, argv)) {
        if (auto r = runtime::reexec_from_sealed_memfd(argv); !r) {
            log::report(r.error());
            return 1;
        }
    }
    log::init_from_env();

    CLI::App app{"bock-oci: an OCI container runtime (runc's command line)", "bock-oci"};
    app.set_version_flag("-v,--version", runtime::version_text(BOCK_VERSION, BOCK_OCI_COMMIT));
    app.require_subcommand(1);
    oci::GlobalOptions g;
    app.add_option("--root", g.root, "directory for the state of containers");
    app.add_option("--log", g.log_file, "log to this file instead of stderr");
    app.add_option("--log-format", g.log_format, "log format: text or json")->check(CLI::IsMember({"text", "json"}));
    app.add_flag("--debug", g.debug, "log debug messages");
    app.add_flag("--systemd-cgroup", g.systemd_cgroup, "accepted; cgroupfs is used (docs/process-model.md)");
    app.footer(
        "Exit status: 0 on success, 1 on an error; `run` in the foreground exits with the container's own code\n"
        "(125 when bock-oci failed, 126/127 when the command cannot be executed).\n"
        "Default --root: /run/bock-oci as root; $XDG_RUNTIME_DIR/bock-oci or /tmp/bock-oci-$UID otherwise.\n"
        "create, run and exec re-execute bock-oci from a sealed memfd (CVE-2019-5736 protection);\n"
        "BOCK_OCI_NO_SEALED_EXE=1 turns that off, for debugging only.");

    // Only the command named is registered: building every subcommand's
    // options costs time and memory on each call (an engine execs bock-oci
    // several times per container). With none or an unknown one, all are,
    // for --help and CLI11's error message.
    using Adder = void (*)(CLI::App&, const oci::GlobalOptions&, int&);
    static constexpr std::pair<std::string_view, Adder> kCommands[] = {
        {"create", oci::add_create_command}, {"start", oci::add_start_command},
        {"state", oci::add_state_command},   {"kill", oci::add_kill_command},
        {"delete", oci::add_delete_command}, {"list", oci::add_list_command},
        {"run", oci::add_run_command},       {"spec", oci::add_spec_command},
        {"pause", oci::add_pause_command},   {"resume", oci::add_resume_command},
        {"update", oci::add_update_command}, {"ps", oci::add_ps_command},
        {"events", oci::add_events_command}, {"exec", oci::add_exec_command},
        {"features", oci::add_features_command},
    };
    int exit_code = 0;
    std::string_view named = oci::command_name(argc, argv);
    bool known = false;
    for (const auto& [name, add] : kCommands)
        if (name == named) {
            add(app, g, exit_code);
            known = true;
        }
    if (!known)
        for (const auto& [name, add] : kCommands) add(app, g, exit_code);

    // Globals take effect before the subcommand's callback runs.
    app.parse_complete_callback([&] {
        if (g.debug) log::set_level(log::Level::debug);
        int fd = 2;
        if (!g.log_file.empty()) {
            fd = ::open(g.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
            if (fd < 0) {
                log::report(errno_error("open the log file `{}`", g.log_file));
                std::exit(125);
            }
        }
        log::set_sink(fd, g.log_format == "json" ? log::Format::json : log::Format::text);
        if (g.systemd_cgroup) log::warn("--systemd-cgroup: the systemd cgroup driver is not supported yet; using cgroupfs "
                                        "(slice:prefix:name becomes /slice/prefix-name.scope)");
    });

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return e.get_exit_code() == 0 ? 0 : (rc == 0 ? 0 : 125);
    }
    return exit_code;
}
