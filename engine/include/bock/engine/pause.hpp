// `bock pause` / `bock unpause` (issue 18): every process of a running
// container frozen and thawed through its cgroup (v1 freezer.state, v2
// cgroup.freeze), with the runtime library's writers. A container without
// a cgroup of its own (rootless on cgroup v1, or v2 without delegation)
// cannot be paused: the error says why and what would make it possible,
// as podman refuses rootless pause on cgroup v1.
#pragma once

#include <string>

#include "bock/common/error.hpp"
#include "bock/engine/context.hpp"

namespace bock::engine {

// Returns the container's id. Refused unless it is running (and not
// paused already); records a `pause` event.
Result<std::string> pause_container(Context& ctx, const std::string& key);
// Refused unless it is paused; records an `unpause` event.
Result<std::string> unpause_container(Context& ctx, const std::string& key);

}  // namespace bock::engine
