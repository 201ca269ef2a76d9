// bock-oci's commands: each cmd_<verb>.cpp registers one subcommand that
// parses its arguments and calls the runtime library.
//
// Exit status: `run` in the foreground exits with the container's code
// (125 when bock-oci itself failed, 126/127 when the command cannot be
// executed). Every other command exits 0 on success and 1 on an error,
// as runc does.
#pragma once

#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "bock/common/error.hpp"

namespace bock::runtime {
struct ContainerState;
}

namespace bock::oci {

// runc's global options.
struct GlobalOptions {
    std::string root;  // container state; empty: runtime::default_state_root()
    std::string log_file;
    std::string log_format = "text";
    bool debug = false;
    bool systemd_cgroup = false;  // accepted; cgroupfs is used
};

// Each adder registers a subcommand whose callback stores the process exit
// status in `exit_code`.
void add_create_command(CLI::App& app, const GlobalOptions& g, int& exit_code);
void add_start_command(CLI::App& app, const GlobalOptions& g, int& exit_code);
void add_state_command(CLI::App& app, const GlobalOptions& g, int& exit_code);
void add_kill_command(CLI::App& app, const GlobalOptions& g, int& exit_code);
void add_delete_command(CLI::App& app, const GlobalOptions& g, int& exit_code);
void add_list_command(CLI::App& app, const GlobalOptions& g, int& exit_code);
void add_run_command(CLI::App& app, const GlobalOptions& g, int& exit_code);
void add_spec_command(CLI::App& app, const GlobalOptions& g, int& exit_code);
// Cgroups: cmd_pause.cpp (pause and resume), cmd_update.cpp, cmd_ps.cpp, cmd_events.cpp.
void add_pause_command(CLI::App& app, const GlobalOptions& g, int& exit_code);
void add_resume_command(CLI::App& app, const GlobalOptions& g, int& exit_code);
void add_update_command(CLI::App& app, const GlobalOptions& g, int& exit_code);
void add_ps_command(CLI::App& app, const GlobalOptions& g, int& exit_code);
void add_events_command(CLI::App& app, const GlobalOptions& g, int& exit_code);
void add_exec_command(CLI::App& app, const GlobalOptions& g, int& exit_code);
void add_features_command(CLI::App& app, const GlobalOptions& g, int& exit_code);

// common.cpp
// Not real root in the initial user namespace: rootless rules apply (no
// mknod, sysfs maybe refused).
bool is_rootless();
// --root, or the default state root.
Result<std::string> state_root(const GlobalOptions& g);
// --preserve-fds N: the caller's fds 3..3+N-1 must be open (checked before
// bock-oci opens anything that could land in that range).
Result<void> check_preserved_fds(int n);
// Reports the error (one line, plus its hint) and returns 1.
int fail(const Error& e);
// sealed_args.cpp: true for the commands that put a process into a
// container (create, run, exec): they re-execute from a sealed memfd.
bool needs_sealed_exe(int argc, char** argv);
// The subcommand argv names (the first word that is not a global option or
// its value); empty when there is none.
std::string_view command_name(int argc, char** argv);

// cmd_create.cpp: create (and with `start_too`, start) a container whose
// state goes to <root>/<id>; 0 or 1. Shared by `create` and `run --detach`.
struct CreateArgs {
    std::string bundle = ".";
    std::string id;
    std::string pid_file;
    std::string console_socket;
    bool no_pivot = false, no_new_keyring = false;
    int preserve_fds = 0;
};
int create_and_maybe_start(const GlobalOptions& g, const CreateArgs& a, bool start_too);
// cmd_start.cpp: releases a created container; 0 or 1.
int start_by_id(const GlobalOptions& g, const std::string& id);
// cmd_start.cpp: startContainer hooks, release, poststart hooks.
Result<void> start_created(const runtime::ContainerState& st, const std::string& fifo);

}  // namespace bock::oci
