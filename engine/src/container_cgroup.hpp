// The cgroup of a running container, for pause, stats, top and the
// "paused" status (engine-private; pause.cpp).
#pragma once

#include <optional>

#include "bock/engine/containers.hpp"
#include "bock/engine/context.hpp"
#include "bock/runtime/cgroup.hpp"

namespace bock::engine {

// What the monitor's creator recorded (<rundir>/cgroup.json), else the
// cgroup of the container's PID 1 where it differs from its parent's (a
// foreground `bock run` as root). nullopt: no cgroup of its own.
std::optional<runtime::CgroupPaths> container_cgroup(const Context& ctx, const ContainerRecord& rec);
// Running with its cgroup frozen.
bool container_paused(const Context& ctx, const ContainerRecord& rec);
// A paused container thawed (stop and rm -f: a frozen process does not die
// until it is thawed); nothing otherwise.
void thaw_if_paused(const Context& ctx, const ContainerInfo& c);

}  // namespace bock::engine
