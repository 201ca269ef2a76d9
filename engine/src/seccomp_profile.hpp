// Seccomp profiles in the Docker/podman format (an allow list with
// per-capability and per-architecture conditions) turned into the OCI
// spec's linux.seccomp for one container (docs/security.md).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/runtime/spec.hpp"

namespace bock::engine {

// engine/profiles/seccomp.json, compiled in (default_seccomp.cpp, generated).
extern const std::string_view default_seccomp_json;

// What a profile's conditions are checked against.
struct SeccompTarget {
    std::string scmp_arch;   // "SCMP_ARCH_X86_64": picks the archMap entry
    std::string arch;        // "amd64": includes/excludes.arches
    std::string kernel;      // "6.18.0": includes.minKernel
    std::vector<std::string> caps;  // the bounding set: includes/excludes.caps
};
// This machine's architecture and kernel, with `caps`.
SeccompTarget native_seccomp_target(std::vector<std::string> caps);

// A profile to linux.seccomp: the archMap entry of this architecture (with
// its sub-architectures) or `architectures` as written; the entries whose
// includes hold (every capability listed held; this architecture listed;
// the kernel at least minKernel) and whose excludes do not (no capability
// listed held; this architecture not listed). `source` names the profile in
// errors ("--security-opt seccomp=FILE: syscalls[3].action: ...").
Result<runtime::Seccomp> seccomp_from_profile(std::string_view json_text, std::string_view source,
                                              const SeccompTarget& target);

}  // namespace bock::engine
