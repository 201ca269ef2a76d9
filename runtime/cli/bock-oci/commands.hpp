// bock-oci's commands: each cmd_<verb>.cpp registers one subcommand that
// parses its arguments and calls the runtime library.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace bock::oci {

// runc's global options.
struct GlobalOptions {
    std::string root = "/run/bock-oci";  // container state (used by create/start later)
    std::string log_file;
    std::string log_format = "text";
    bool debug = false;
};

// Each adder registers a subcommand whose callback stores the process exit
// status in `exit_code`.
void add_run_command(CLI::App& app, const GlobalOptions& g, int& exit_code);
void add_spec_command(CLI::App& app, const GlobalOptions& g, int& exit_code);

}  // namespace bock::oci
