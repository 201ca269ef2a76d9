// The long-lived rootless session (like podman's pause process). The first
// bock command forks a holder process that unshares a user + mount
// namespace, gets its ID mappings written, and then only waits. Every bock
// command joins the holder's namespaces with setns, which is why this must
// run before any thread exists.
//
// State lives in <run_root>/session/: holder.pid ("PID STARTTIME"), a lock
// file serialising creation. A dead or recycled pid is detected through the
// start time and the session is created anew.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "bock/common/error.hpp"
#include "bock/userns/idmap.hpp"

namespace bock::userns {

struct SessionInfo {
    pid_t holder = -1;
    bool created = false;  // this call created the session
    bool single = false;   // single-ID mapping
};

// Joins (creating if needed) the session of this user under run_root. On
// success the caller is uid 0 / gid 0 in the session's user namespace and
// inside its mount namespace (all mounts private). Prints the single-ID
// notice once, when the session is created with a single-ID mapping.
Result<SessionInfo> enter_session(const std::string& run_root);

// The live holder, if any (no namespace is entered).
Result<std::optional<pid_t>> find_session(const std::string& run_root);

// Kills the holder (if any) and removes the session state.
Result<void> stop_session(const std::string& run_root);

// True when the calling process is in a user namespace other than the
// initial one (uid_map is not the identity "0 0 4294967295").
bool in_user_namespace();

}  // namespace bock::userns
