// The cgroup side of starting a container (run.cpp calls these): create
// the container's cgroup and apply linux.resources before clone, turn
// "cgroup" mounts into what the host's layout needs, and say once what a
// rootless container without delegation runs without.
#pragma once

#include "bock/runtime/cgroup.hpp"
#include "plan.hpp"

namespace bock::runtime {

// Root: the cgroup of linux.cgroupsPath (default /bock/ID) with the limits
// written; an empty Cgroup (mode none) when rootless without delegation, in
// which case one warning names each limit not enforced. The Cgroup removes
// its directories when destroyed unless released.
Result<Cgroup> setup_container_cgroup(const Spec& spec, const RunOptions& opts);

// Plans the cgroup namespace (the child unshares it once it is in its
// cgroup: CLONE_NEWCGROUP leaves the clone flags) and the "cgroup" mounts:
// cgroup2 on v2; on v1 a tmpfs with one read-only bind per hierarchy of the
// container's own directories, as runc does.
void plan_cgroup(Plan& plan, const CgroupPaths& cg);

// After clone, before the child goes on: the pid into cgroup.procs, then
// the CgroupJoined message.
Result<void> join_cgroup(const Plan& plan, const CgroupPaths& cg, pid_t pid, int sock);

}  // namespace bock::runtime
