// ID mappings for a rootless user namespace and how they are written:
// with a subordinate range, container 0 = the user and 1..N = the range,
// written by the setuid newuidmap/newgidmap; without one, only the user's
// own id, written directly to /proc/PID/{uid,gid}_map (setgroups "deny").
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bock/common/error.hpp"

namespace bock::userns {

struct IdMapping {
    uint32_t container_id = 0;
    uint32_t host_id = 0;
    uint32_t size = 0;
    bool operator==(const IdMapping&) const = default;
};

struct IdMappings {
    std::vector<IdMapping> uids;
    std::vector<IdMapping> gids;
    bool single = false;  // only the user's own id is mapped
};

struct UserIdentity {
    uid_t uid = 0;
    gid_t gid = 0;
    std::string name;  // from the passwd database; may be empty
};

Result<UserIdentity> current_user();

// Plans the mappings for `who` from the two subid files. With no range in
// either file the result is single-ID (single = true), not an error.
Result<IdMappings> plan_rootless_mappings(const UserIdentity& who,
                                          const std::string& subuid_path = "/etc/subuid",
                                          const std::string& subgid_path = "/etc/subgid");

// "0 1000 1\n1 100000 65536\n"
std::string format_map(const std::vector<IdMapping>& m);
// Parses /proc/PID/uid_map text.
Result<std::vector<IdMapping>> parse_map(std::string_view text);

// Writes the mappings of process `pid` (which has just unshared its user
// namespace): newuidmap/newgidmap for a range, /proc writes for single.
// Errors name the cause and the fix (package, ls -l, setuid bit).
Result<void> write_mappings(pid_t pid, const IdMappings& m);

// The fix line for "no range": the exact usermod command for this user.
std::string no_range_hint(const UserIdentity& who);

}  // namespace bock::userns
