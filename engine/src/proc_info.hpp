// A container's processes as /proc shows them, for `bock top` and the
// /proc figures of `bock stats` (engine-private; proc_info.cpp). Works
// rootless: bock reads /proc from the session, whose user namespace owns
// the container's processes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/engine/containers.hpp"
#include "bock/engine/context.hpp"

namespace bock::engine {

struct ProcInfo {
    pid_t pid = 0, ppid = 0, pgid = 0;     // as this process sees them
    pid_t ns_pid = 0, ns_ppid = 0, ns_pgid = 0;  // in the container's pid namespace (0: outside it)
    char state = '?';
    std::string comm;
    std::vector<std::string> args;
    uint64_t utime = 0, stime = 0;   // clock ticks
    uint64_t cutime = 0, cstime = 0; // of its reaped children, clock ticks
    uint64_t start = 0;              // clock ticks after boot
    int64_t nice = 0;
    int tty_nr = 0;
    uint64_t vsize = 0;              // bytes
    uint64_t rss = 0;                // bytes
    uint32_t ruid = 0, euid = 0, rgid = 0, egid = 0;  // in this process's user namespace
    uint64_t cap_inh = 0, cap_prm = 0, cap_eff = 0, cap_bnd = 0, cap_amb = 0;
    int seccomp = 0;                 // 0 disabled, 1 strict, 2 filter
    std::string label;               // /proc/PID/attr/current, "" when none
};

std::optional<ProcInfo> read_proc(pid_t pid);

// The host pids of a running container's processes: its cgroup's
// cgroup.procs when it has one; else every process in the pid namespace
// of its PID 1 (when that is not ours); else PID 1 and its descendants.
// `source` says which ("cgroup", "pid namespace", "process tree").
struct ContainerProcs {
    pid_t init = 0;
    std::vector<pid_t> pids;
    std::string source;
};
Result<ContainerProcs> container_processes(const Context& ctx, const ContainerInfo& c);

// The path of `pid`'s cgroup2 group where it differs from `parent`'s
// ("/bock/ID"), "" when it shares it: on a hybrid host a container may
// have a group of its own there even when its limits are v1's.
std::string own_unified_group(pid_t pid, pid_t parent);

// Clock ticks per second, seconds since boot, and the boot time (unix seconds).
long clock_ticks();
double uptime_seconds();
int64_t boot_time();

}  // namespace bock::engine
