// config.json `hooks` (runtime-spec config.md#posix-platform-hooks): parsed
// from the document, run as fork + exec with the container's state JSON on
// stdin, killed when their `timeout` passes.
//
// Where Bock runs each (docs/process-model.md):
//   createRuntime, prestart  by the runtime (create/run), in the runtime's
//                            namespaces, after the container's namespaces
//                            and mounts exist, before pivot_root (the child
//                            waits for them: MessageKind::run_hooks)
//   createContainer          by the runtime at the same point, inside the
//                            container's user and mount namespaces (path
//                            resolved on the host: pivot_root has not run)
//   startContainer           by `start` (run: before the release), inside
//                            the container's user, mount, uts, ipc, net and
//                            cgroup namespaces (path resolved in the
//                            container); not its pid namespace
//   poststart                by `start` / `run` once the process runs
//   poststop                 by `delete` / `run` once it is gone
// A failing createRuntime/prestart/createContainer/startContainer hook is an
// error and the container is torn down; poststart and poststop failures are
// warnings. The state's status is crun's: "created" up to startContainer,
// "running" for poststart, "stopped" for poststop (hooks.cpp says where
// runc and crun differ).
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bock/common/error.hpp"

namespace bock::runtime {

struct Hook {
    std::string path;
    std::vector<std::string> args;  // empty: [path]
    std::vector<std::string> env;
    std::optional<int> timeout;     // seconds
};

struct Hooks {
    std::vector<Hook> prestart, create_runtime, create_container, start_container, poststart, poststop;
    // Any hook that runs while the container is being created.
    bool any_at_create() const { return !prestart.empty() || !create_runtime.empty() || !create_container.empty(); }
};

// config.json's `hooks` (absent: none). Errors name the field
// ("hooks.prestart[0].path: must be an absolute path").
Result<Hooks> parse_hooks(const nlohmann::json& config);

// The state JSON given to hooks on stdin.
std::string hook_state(const std::string& id, const std::string& status, pid_t pid, const std::string& bundle,
                       const std::map<std::string, std::string>& annotations, const std::string& oci_version);

// Runs `hooks` in order; the first failure (exit status, signal, timeout,
// cannot exec) is the error: `kind` names the list ("prestart"). With
// `ns_pid`, each hook runs in the namespaces of that process that differ
// from ours (user first; not pid).
Result<void> run_hooks(const std::vector<Hook>& hooks, const char* kind, const std::string& state, pid_t ns_pid = 0);
// The same for poststart/poststop: failures are logged as warnings.
void run_hooks_warn(const std::vector<Hook>& hooks, const char* kind, const std::string& state);

// The hooks of the bundle's config.json (for start and delete, which only
// have the state); none when it cannot be read (logged at debug level).
Hooks hooks_of_bundle(const std::string& bundle);

}  // namespace bock::runtime
