// Control groups for containers: where the host's hierarchies are (v2,
// v1, or v1 with an unused cgroup2 mount as on hybrid hosts), where a
// container's cgroup goes (linux.cgroupsPath as runc reads it), and the
// operations the runtime and its commands need: create and apply limits,
// join, freeze, list processes, read statistics, remove.
//
// The cgroup root is configurable: BOCK_CGROUP_ROOT=DIR makes DIR the
// whole cgroup filesystem (v2 when DIR/cgroup.controllers exists, else v1
// with one hierarchy per subdirectory), so the writers are unit-tested
// against a directory tree.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bock/common/error.hpp"
#include "bock/runtime/spec.hpp"

namespace bock::runtime {

enum class CgroupMode { none, v1, v2 };

struct CgroupHierarchy {  // v1: one mounted hierarchy
    std::string name;      // basename of the mount point: "memory", "cpu,cpuacct"
    std::string mountpoint;
    std::string mount_root;  // the mount's root inside the hierarchy ("/" on the host)
    std::vector<std::string> controllers;
    std::string own;  // this process's cgroup in it ("/user.slice")
};

struct CgroupLayout {
    CgroupMode mode = CgroupMode::none;
    std::string unified;                    // v2: mount point
    std::vector<std::string> controllers;   // v2: cgroup.controllers of the root
    std::string own;                        // v2: this process's cgroup
    std::vector<CgroupHierarchy> v1;
    bool hybrid = false;  // v1 with a cgroup2 mount beside it (left alone)
};

// Reads /proc/self/mountinfo and /proc/self/cgroup, or BOCK_CGROUP_ROOT.
Result<CgroupLayout> detect_cgroups();

// A container's cgroup: one directory (v2) or one per hierarchy (v1).
// Recorded in state.json so later commands find it.
struct CgroupPaths {
    CgroupMode mode = CgroupMode::none;
    std::string path;                       // as resolved: "/bock/ID"
    std::string unified;                    // v2: absolute directory
    std::map<std::string, std::string> v1;  // hierarchy name -> absolute directory
    bool empty() const { return mode == CgroupMode::none; }
    // v1: the directory of the hierarchy holding `controller` ("" if none).
    std::string dir_for(std::string_view controller) const;
    nlohmann::json to_json() const;
    static CgroupPaths from_json(const nlohmann::json& j);
};

// The cgroup of `pid` where it differs from its parent's (`parent`):
// a container's own cgroup, found from /proc/PID/cgroup when nothing
// recorded it; mode none when it shares every cgroup with its parent
// (rootless without delegation).
CgroupPaths cgroup_of_process(const CgroupLayout& layout, pid_t pid, pid_t parent);

// linux.cgroupsPath to a path from the hierarchy root, as runc does:
// absolute as is; relative below `own` (the runtime's cgroup); the systemd
// form "slice:prefix:name" as cgroupfs would place it
// ("machine-x.slice:libpod:ID" -> "/machine.slice/machine-x.slice/libpod-ID.scope");
// empty -> "/bock/ID". `..` components are refused.
Result<std::string> resolve_cgroups_path(std::string_view spec_path, std::string_view own, std::string_view id);

// A cgroup this process created. The destructor removes the directories it
// made (deepest first) unless release() was called: no failure path leaks one.
class Cgroup {
public:
    Cgroup() = default;
    ~Cgroup();
    Cgroup(Cgroup&& o) noexcept;
    Cgroup& operator=(Cgroup&& o) noexcept;
    Cgroup(const Cgroup&) = delete;
    Cgroup& operator=(const Cgroup&) = delete;

    // Makes the directories of `path` (from the root) in every hierarchy;
    // v1 copies cpuset.cpus/mems of the parent into each new cpuset dir;
    // v2 enables the controllers in each parent's cgroup.subtree_control.
    static Result<Cgroup> create(const CgroupLayout& layout, const std::string& path);

    const CgroupPaths& paths() const { return paths_; }
    void release() { created_.clear(); }

private:
    CgroupPaths paths_;
    std::vector<std::string> created_;  // in creation order
};

// Writes the limits; what the host cannot enforce is added to `warnings`
// (a controller it lacks, device rules on v2), what it refuses is an error
// naming the file.
Result<void> cgroup_apply(const CgroupPaths& cg, const Resources& r, std::vector<std::string>& warnings);
// Writes pid into cgroup.procs of every directory.
Result<void> cgroup_add_process(const CgroupPaths& cg, pid_t pid);
// v1 freezer.state FROZEN/THAWED, v2 cgroup.freeze; waits (5 s at most)
// until the kernel reports the state reached.
Result<void> cgroup_freeze(const CgroupPaths& cg, bool frozen);
bool cgroup_frozen(const CgroupPaths& cg);
// Pids in cgroup.procs (of the pids, else the first hierarchy).
Result<std::vector<pid_t>> cgroup_pids(const CgroupPaths& cg);
// runc's stats document: {"cpu":..,"memory":..,"pids":..,"blkio":..,"hugetlb":..}
nlohmann::json cgroup_stats(const CgroupPaths& cg);
// Removes the container's directories (retrying while exiting processes
// leave them busy, 2 s at most). A missing directory is fine.
Result<void> cgroup_remove(const CgroupPaths& cg);

}  // namespace bock::runtime
