// Running other programs (newuidmap, busybox --list, ...): posix_spawn with
// an explicit argv, optional environment, captured output. Never a shell.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/common/pid.hpp"

namespace bock {

struct SpawnOptions {
    std::vector<std::string> argv;                 // argv[0] is looked up in PATH if it has no '/'
    std::optional<std::vector<std::string>> env;   // nullopt: inherit
    bool capture_stdout = false;
    bool capture_stderr = false;
    std::optional<std::string> stdin_data;          // fed to the child's stdin; else /dev/null
};

struct SpawnResult {
    int status = 0;     // raw wait status
    int exit_code = 0;  // exit_code_from_status(status)
    std::string out;
    std::string err;
};

// Runs to completion. An error only if the program could not be started.
Result<SpawnResult> run_program(const SpawnOptions& opts);

// Starts a program with inherited stdio and returns its Pid.
Result<Pid> spawn_program(const SpawnOptions& opts);

// Looks up NAME in $PATH (or the given path list); nullopt if absent.
std::optional<std::string> find_program(std::string_view name, const char* path_env = nullptr);

}  // namespace bock
