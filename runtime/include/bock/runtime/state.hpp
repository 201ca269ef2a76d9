// The state of OCI containers between runtime calls (bock-oci create,
// start, state, kill, delete, list), as runc keeps it:
//
//   <root>/<id>/state.json   pid, its start time, bundle, created, annotations
//   <root>/<id>/exec.fifo    present from create until start
//
// The status is derived, never stored: the recorded process alive (same
// start time, not a zombie) with the fifo present is `created`, alive
// without it `running` (`paused` while its cgroup is frozen), otherwise
// `stopped`.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "bock/common/error.hpp"

namespace bock::runtime {

enum class Status { created, running, stopped, paused };
const char* status_name(Status s);

struct ContainerState {
    std::string id;
    std::string oci_version;
    std::string bundle;   // absolute
    std::string created;  // RFC 3339, UTC
    pid_t pid = 0;
    uint64_t start_time = 0;
    bool rootless = false;
    uid_t owner = 0;
    std::map<std::string, std::string> annotations;
    nlohmann::json cgroup;  // CgroupPaths::to_json() (cgroup.hpp); null: no cgroup
};

// The default state root: /run/bock-oci as root; rootless
// $XDG_RUNTIME_DIR/bock-oci, else /tmp/bock-oci-$UID (0700, owner checked).
Result<std::string> default_state_root();

// Container ids as runc accepts them: letters, digits, `_+-.`, not `.`/`..`.
Result<void> check_container_id(std::string_view id);

std::string state_dir(const std::string& root, const std::string& id);
std::string exec_fifo_path(const std::string& root, const std::string& id);

// Makes <root> (0700) and <root>/<id> with its exec fifo (0622, so the
// container's user can open it); a container of that id existing is an
// error ("container `ID` already exists").
Result<void> make_state_dir(const std::string& root, const std::string& id);
// state.json, written atomically.
Result<void> save_state(const std::string& root, const ContainerState& s);
// "container `ID` does not exist" when there is no state for it.
Result<ContainerState> load_state(const std::string& root, const std::string& id);
Result<void> remove_state(const std::string& root, const std::string& id);
// The ids under root, sorted; a missing root is an empty list.
Result<std::vector<std::string>> list_containers(const std::string& root);

Status container_status(const std::string& root, const ContainerState& s);
// The runtime-spec state document: ociVersion, id, status, pid (0 when
// stopped), bundle, annotations; plus created, rootless and owner.
nlohmann::json state_json(const ContainerState& s, Status status);

// /proc/PID/stat field 22; nullopt when the process is gone or a zombie.
std::optional<uint64_t> process_start_time(pid_t pid);
// The recorded process, alive and the same one (start time).
bool process_alive(const ContainerState& s);
bool process_alive(pid_t pid, uint64_t start_time);
// Does `pid` have a handler for `sig` (SigCgt in /proc/PID/status)? A pid
// namespace's init without one never sees it. nullopt when unknown (gone).
std::optional<bool> catches_signal(pid_t pid, int sig);

// "TERM", "SIGTERM", "term", "15" -> 15; unknown names are an error.
Result<int> parse_signal(std::string_view text);
// Signals the container's process (through a pidfd, after checking its
// start time). With `all` and a pid namespace of its own, every process
// in that namespace. A stopped container is an error.
Result<void> signal_container(const ContainerState& s, int sig, bool all);
// Waits up to timeout_ms for the process to exit; false if it did not.
bool wait_stopped(const ContainerState& s, int timeout_ms);

}  // namespace bock::runtime
