// `bock exec`: another process in a running container, through the
// runtime library's exec (runtime/src/exec.cpp): it joins every namespace
// and cgroup of the container's process, its root filesystem, and starts
// from the container's own process settings (env, user, working directory,
// capabilities, rlimits, no_new_privs, seccomp filter), changed by the flags.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/engine/context.hpp"

namespace bock::engine {

struct ExecRequest {
    std::string container;              // id, id prefix or name
    std::vector<std::string> args;      // the command; required
    std::vector<std::string> env;       // -e K=V (K alone: from bock's environment)
    std::vector<std::string> env_files; // --env-file: K=V lines, # comments
    std::optional<std::string> user;    // -u UID[:GID] or NAME[:GROUP], looked up in the container
    std::optional<std::string> workdir; // -w, absolute
    bool interactive = false;           // -i: stdin reaches the process
    bool tty = false;                   // -t: a pty, proxied by the runtime
    bool detach = false;                // -d: return once it runs (stdio: /dev/null)
    bool privileged = false;            // every capability bock holds
    // Not flags (health checks): the process's stdout and stderr go to
    // this fd (stdin /dev/null); SIGKILL after timeout_ms, an Error with
    // code ETIMEDOUT.
    int output_fd = -1;
    int timeout_ms = 0;
};

// Foreground: the process's exit code (126/127 as Errors when it cannot be
// executed, as `bock run`). Detached: 0 once it runs. A container that is
// not running is an Error (exit status 125) naming it.
Result<int> exec_in_container(Context& ctx, const ExecRequest& req);

// --env-file FILE: K=V lines (K alone: from bock's environment), blank
// lines and # comments skipped.
Result<std::vector<std::string>> read_env_file(const std::string& path);

}  // namespace bock::engine
