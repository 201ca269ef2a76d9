// What this runtime supports, as the runtime-spec's features.md document
// (`bock-oci features`), and the version text of `bock-oci --version`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bock::runtime {

// The features document: OCI versions, hooks, mount options, namespaces,
// capabilities (libcap), cgroup drivers, seccomp (libseccomp), LSMs,
// idmapped mounts.
nlohmann::json features();

// The capabilities this process holds in its effective set, by name
// ("CAP_CHOWN", ...): what a privileged exec can be given (a capability
// the caller lacks could not be raised in the child anyway).
std::vector<std::string> held_capabilities();

// The names in a capability mask (/proc/PID/status CapEff), without the
// "CAP_" prefix: "CHOWN", "KILL" (`bock top`'s capeff and friends).
std::vector<std::string> capability_names(uint64_t mask);
// The highest capability number this build knows (CAP_LAST_CAP).
int last_capability();

// "2.5.4": the libseccomp linked in.
std::string libseccomp_version();

// runc's shape: "bock-oci version X\ncommit: C\nspec: 1.1.0\nlibseccomp: V".
std::string version_text(const std::string& version, const std::string& commit);

}  // namespace bock::runtime
