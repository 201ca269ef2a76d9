// Running another process in an existing container (`bock-oci exec`, as
// runc exec). The process is described by a runtime-spec Process (from a
// --process JSON file, or the container's own config.json process overlaid
// by runc's flags); it joins every namespace and cgroup of the container's
// first process and is set up like it (user, capabilities, limits,
// no_new_privs, the container's seccomp filter). The process model is in
// docs/process-model.md ("exec").
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/runtime/spec.hpp"
#include "bock/runtime/state.hpp"

namespace bock::runtime {

// runc exec's flags that change the process (the command line wins over
// config.json, as in runc).
struct ExecFlags {
    std::vector<std::string> args;  // the command; required
    std::vector<std::string> env;   // -e K=V: added, replacing the same K
    std::string cwd;                // --cwd: empty keeps config.json's
    std::string user;               // -u UID[:GID]
    std::vector<uint32_t> additional_gids;
    std::vector<std::string> caps;  // -c CAP: added to every capability set
    bool no_new_privs = false;      // --no-new-privs: only turns it on
    bool tty = false;               // -t
};

// The process for exec without --process: config.json's process with the
// flags applied. Errors name the flag ("--user `x`: ...").
Result<Process> overlay_exec_flags(const Process& base, const ExecFlags& flags);

// A --process FILE: a runtime-spec Process JSON object (what conmon and
// containerd write). `source` names it in errors.
Result<Process> parse_process_json(std::string_view json_text, std::string_view source);

struct ExecOptions {
    bool rootless = false;
    // Detached: return 0 once the process is exec'd, leaving it running (it
    // is reparented to the caller's subreaper when the caller exits).
    bool detach = false;
    std::string pid_file;        // written with the process's pid (host view)
    std::string console_socket;  // with process.terminal: receives the pty master
    // process.terminal without console_socket, in the foreground: the
    // runtime makes the pty and proxies it to its own stdio (as runc);
    // `proxy_stdin` also copies its stdin to the pty (exec -i).
    bool proxy_stdin = false;
    // When >= 0: the process's stdin is /dev/null and its stdout and
    // stderr go to this fd (a detached exec's /dev/null, a health check's
    // capture file); otherwise it shares the caller's stdio.
    int output_fd = -1;
    // Compiled seccomp filters kept between runs (RunOptions::seccomp_cache_dir).
    std::string seccomp_cache_dir;
    // Foreground: SIGKILL the process when it runs longer than this, and
    // return an Error with code ETIMEDOUT (0: no limit).
    int timeout_ms = 0;
    int preserve_fds = 0;        // fds 3..3+N-1 of the caller stay open
};

// Runs `proc` in the container recorded in `state` (its bundle's
// config.json supplies the seccomp filter). Foreground: forwards signals,
// waits and returns Docker's exit code (126/127 as Errors when the command
// cannot be executed, as run_container). Detached: returns 0 after exec.
Result<int> exec_in_container(const ContainerState& state, const Process& proc, const ExecOptions& opts);

}  // namespace bock::runtime
