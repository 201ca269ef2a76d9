// The security profile and the host-facing options of `bock run` and
// `bock create` applied to a container's spec (run_security.cpp,
// docs/security.md).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

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

// net.ipv4.ping_group_range's value for a namespace whose groups are these
// ranges (first, last + 1): "0 END" over the ranges adjacent from 0 (the
// kernel refuses an unmapped end), "1 0" (nobody) when 0 is not mapped.
std::string ping_group_range_of(std::vector<std::pair<uint64_t, uint64_t>> ranges);

}  // namespace bock::engine
