// What this runtime supports, as the runtime-spec's features.md document
// (`bock-oci features`), and the version text of `bock-oci --version`.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace bock::runtime {

// The features document: OCI versions, hooks, mount options, namespaces,
// capabilities (libcap), cgroup drivers, seccomp (libseccomp), LSMs,
// idmapped mounts.
nlohmann::json features();

// "2.5.4": the libseccomp linked in.
std::string libseccomp_version();

// runc's shape: "bock-oci version X\ncommit: C\nspec: 1.1.0\nlibseccomp: V".
std::string version_text(const std::string& version, const std::string& commit);

}  // namespace bock::runtime
