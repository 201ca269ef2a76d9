// The plan: everything the container's first process needs between clone
// and exec, computed by the parent before clone so the child allocates
// nothing. Strings are read through c_str(), arrays through data(); the
// child only reads the plan (its copy of the parent's memory).
#pragma once

#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/common/fd.hpp"
#include "bock/runtime/container.hpp"
#include "bock/runtime/hooks.hpp"
#include "bock/runtime/spec.hpp"
#include "bock/userns/idmap.hpp"
#include "process_attrs.hpp"
#include "seccomp.hpp"

namespace bock::runtime {

struct MountPlan {
    enum class Kind { normal, sysfs, cgroup };
    Kind kind = Kind::normal;
    std::string source;       // host path for binds (absolute), else the fs source
    std::string destination;  // as the spec wrote it (for messages)
    std::string rel_dest;     // inside the rootfs, no leading '/', no "." or ".."
    std::string fstype;       // empty for binds
    std::string data;         // fs options not understood as flags
    std::string data_nogid;   // devpts: the data without gid=, retried on EINVAL
    unsigned long flags = 0;  // MS_* flags (no MS_BIND/MS_REC/propagation)
    unsigned long propagation = 0;  // e.g. MS_PRIVATE|MS_REC, applied after
    bool bind = false;
    bool recursive = false;
    bool dest_is_file = false;  // bind of a non-directory: create an empty file
    bool stat_in_child = false; // a joined mount namespace: dest_is_file from the child's stat
    bool idmap = false, idmap_recursive = false;  // idmap / ridmap (idmap_mount.cpp)
    bool idmap_by_parent = false;  // root: the parent makes and places it (IdmapRequest)
};

struct DevicePlan {
    std::string path;       // "/dev/null" (for messages and the host bind source)
    std::string rel_path;   // "dev/null"
    mode_t mode = 0;        // S_IFCHR | 0666
    dev_t dev = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    bool if_missing = false;  // a joined mount namespace: keep a node that is there
};

struct NamespaceJoin {
    Fd fd;
    int nstype = 0;
    std::string path;
};

struct SysctlPlan {
    std::string key;   // net.ipv4.ip_forward
    std::string path;  // /proc/sys/net/ipv4/ip_forward
    std::string value;
};

struct RlimitPlan {
    std::string name;
    int resource = 0;
    rlim_t soft = 0, hard = 0;
};

struct Plan {
    std::string command;  // process.args[0], for messages
    std::string rootfs;   // absolute, symlinks resolved
    unsigned long clone_flags = 0;
    bool new_user = false, new_net = false;
    userns::IdMappings mappings;     // when new_user
    bool write_maps_directly = false;  // real root: write /proc/PID/*_map ourselves
    std::vector<NamespaceJoin> joins;  // user first
    // linux.namespaces: a mount namespace given by path (as crun): no new
    // one; root.path and the mounts' sources resolve in the joined
    // namespace (not checked by the parent), the rootfs is not bound onto
    // itself, `/`'s propagation is left alone and the child chroots into
    // the rootfs instead of pivot_root.
    bool join_mount = false;
    // Rootless with a user namespace given by path: a helper joins it (and
    // a pid namespace given by path) and clones the container process
    // there (run.cpp); the child does not join those two again.
    bool clone_in_joined_user = false;

    // Applied to `/` before the rootfs is bound: rslave, or rprivate when
    // asked (pivot_root refuses shared mounts; an unbindable `/` cannot be
    // bound). The asked linux.rootfsPropagation goes on the new root after
    // pivot_root (0: none asked).
    unsigned long rootfs_propagation = 0;
    unsigned long root_propagation_after = 0;
    std::vector<MountPlan> mounts;
    bool make_devices = true;  // false when /dev is bound from the host
    bool bind_devices = false; // rootless: bind host nodes instead of mknod
    std::vector<DevicePlan> devices;

    bool set_hostname = false, set_domainname = false;
    std::string hostname, domainname;
    std::vector<std::string> masked_paths, readonly_paths;
    bool root_readonly = false;
    std::vector<SysctlPlan> sysctls;

    // Process.
    std::vector<RlimitPlan> rlimits;
    bool set_umask = false;
    mode_t umask = 022;
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;
    std::string cwd;
    bool set_caps = false;
    int cap_last = 40;
    uint64_t cap_bounding = 0, cap_effective = 0, cap_permitted = 0, cap_inheritable = 0,
             cap_ambient = 0;
    bool no_new_privs = false;
    SeccompProgram seccomp;  // built with libseccomp before clone; empty filter: none
    ProcessAttrs attrs;      // oomScoreAdj, ioPriority, scheduler, personality, LSM labels, time ns
    // Hooks (hooks.hpp) and what their state JSON says.
    Hooks hooks;
    std::string bundle, oci_version;
    std::map<std::string, std::string> annotations;
    std::vector<std::string> arg_storage, env_storage;
    std::vector<char*> argv, envp;    // NULL-terminated
    std::vector<std::string> path_dirs;  // the container's PATH, for the exec lookup

    // Lifecycle. A foreground run dies with its runtime; a created container
    // outlives `create` (0: no parent-death signal).
    int parent_death_signal = SIGKILL;
    // create: O_PATH fd of <state>/exec.fifo; the child reopens it through
    // /proc/self/fd and blocks on it before exec until `start` reads (-1: none).
    int exec_fifo_fd = -1;

    // Cgroups (cgroup_setup.cpp): wait for CgroupJoined before any other
    // step; unshare the cgroup namespace then (rooted at the container's cgroup).
    bool wait_cgroup = false, unshare_cgroupns = false;
    // process.terminal (terminal.cpp): the child opens a pty in the
    // container's devpts and sends its master over the connected
    // --console-socket (invalid: no terminal).
    Fd console_socket;
    unsigned short console_rows = 0, console_cols = 0;  // 0: leave the size
    // --preserve-fds N: fds 3..3+N-1 of the caller stay open across exec.
    int preserve_fds = 0;
    // exec: when valid, stdin (/dev/null) and the fd stdout and stderr go to.
    Fd stdin_fd, output_fd;
};

Result<Plan> build_plan(const Spec& spec, const RunOptions& opts);
// The process part of the plan (user, cwd, limits, capabilities, argv/envp
// storage, PATH); also used by exec (exec.cpp).
Result<void> plan_process(const Spec& spec, Plan& p);
// Points argv/envp at the plan's strings; call once the plan is in its final place.
void link_exec_arrays(Plan& p);

// Mount options to flags/data (exposed for unit tests).
Result<void> apply_mount_options(MountPlan& m, const std::vector<std::string>& options);
// "/a/b/../c" is refused; "/a//b/./c" -> "a/b/c".
Result<std::string> relative_destination(std::string_view dest);
// idmap_mount.cpp: `idmap` needs a bind and a new user namespace; as root
// the parent makes the id-mapped tree and moves it into the child's mount
// namespace when the child asks (idmap_for_child, from run.cpp).
Result<void> check_idmap_mounts(const Spec& spec, Plan& p);
Result<void> idmap_for_child(const Plan& p, int index, pid_t child);

// Capability names to a bit mask (cap_from_name); unknown names are an error.
Result<uint64_t> cap_mask(const std::vector<std::string>& names, std::string_view field);

}  // namespace bock::runtime
