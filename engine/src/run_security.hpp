// The security profile and the host-facing options of `bock run` and
// `bock create` applied to a container's spec (run_security.cpp,
// docs/security.md).
#pragma once

#include "bock/common/error.hpp"
#include "bock/engine/context.hpp"
#include "bock/engine/run.hpp"
#include "bock/runtime/spec.hpp"

namespace bock::engine {

// After the network has set up its namespaces: capabilities, seccomp,
// no_new_privs, masked and read-only paths, the read-only root, devices,
// groups, sysctls (ping_group_range by default), /dev/shm, rlimits, shared
// pid/ipc/uts namespaces, environment files and annotations. `rootfs` is
// the container's mounted root (for --group-add NAME).
Result<void> apply_security(const Context& ctx, const RunRequest& req, const std::string& rootfs,
                            runtime::Spec& spec);

}  // namespace bock::engine
