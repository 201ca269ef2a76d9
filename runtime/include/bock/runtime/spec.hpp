// The OCI runtime config (config.json, runtime-spec v1.1) as Bock reads it.
// The foundation covers the fields a first container needs; the runtime
// issue grows this to the whole spec. Unknown fields are kept in `raw`.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bock/common/error.hpp"

namespace bock::runtime {

struct Mount {
    std::string destination;
    std::string type;
    std::string source;
    std::vector<std::string> options;
};

struct User {
    uint32_t uid = 0;
    uint32_t gid = 0;
    std::vector<uint32_t> additional_gids;
    std::optional<uint32_t> umask;
};

struct Rlimit {
    std::string type;  // "RLIMIT_NOFILE"
    uint64_t soft = 0;
    uint64_t hard = 0;
};

struct ConsoleSize {
    uint32_t height = 0;  // rows
    uint32_t width = 0;   // columns
};

struct Process {
    bool terminal = false;
    std::optional<ConsoleSize> console_size;  // process.consoleSize (terminal only)
    User user;
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::string cwd = "/";
    bool no_new_privileges = false;
    std::vector<Rlimit> rlimits;
    // Capability sets by name ("CAP_CHOWN"); nullopt: leave as they are.
    std::optional<std::vector<std::string>> cap_bounding, cap_effective, cap_inheritable,
        cap_permitted, cap_ambient;
};

struct Namespace {
    std::string type;  // pid network mount ipc uts user cgroup time
    std::string path;  // join instead of create when set
};

struct IdMap {
    uint32_t container_id = 0;
    uint32_t host_id = 0;
    uint32_t size = 0;
};

struct Device {
    std::string path;
    std::string type;  // c b u p
    int64_t major = 0, minor = 0;
    std::optional<uint32_t> file_mode;
    std::optional<uint32_t> uid, gid;
};

// linux.seccomp. Names are kept as written ("SCMP_ACT_ERRNO"); the parser
// checks them, the runtime turns them into a BPF program (seccomp.cpp).
struct SeccompArg {
    uint32_t index = 0;  // 0..5
    uint64_t value = 0, value_two = 0;
    std::string op;  // SCMP_CMP_EQ ...
};

struct SeccompSyscall {
    std::vector<std::string> names;
    std::string action;
    std::optional<uint32_t> errno_ret;  // SCMP_ACT_ERRNO / SCMP_ACT_TRACE only
    std::vector<SeccompArg> args;
};

struct Seccomp {
    std::string default_action;
    std::optional<uint32_t> default_errno_ret;
    std::vector<std::string> architectures;  // SCMP_ARCH_X86_64 ...
    std::vector<std::string> flags;          // SECCOMP_FILTER_FLAG_TSYNC ...
    std::string listener_path, listener_metadata;
    std::vector<SeccompSyscall> syscalls;
};

// linux.resources (runtime-spec config-linux.md#control-groups); every
// field optional. Limits that may be -1 ("unlimited") are signed. Parsed by
// spec_resources.cpp, applied by cgroup_v1.cpp / cgroup_v2.cpp.
struct DeviceRule {
    bool allow = false;
    std::string type = "a";  // a c b
    std::optional<int64_t> major, minor;  // nullopt: any ('*')
    std::string access = "rwm";
};
struct ThrottleDevice {
    int64_t major = 0, minor = 0;
    uint64_t rate = 0;
};
struct WeightDevice {
    int64_t major = 0, minor = 0;
    std::optional<uint16_t> weight, leaf_weight;
};
struct Resources {
    struct Memory {
        std::optional<int64_t> limit, reservation, swap, kernel, kernel_tcp;
        std::optional<uint64_t> swappiness;
        std::optional<bool> disable_oom_killer, use_hierarchy;
    };
    struct Cpu {
        std::optional<uint64_t> shares, period, realtime_period;
        std::optional<int64_t> quota, realtime_runtime, idle;
        std::string cpus, mems;
    };
    struct BlockIo {
        std::optional<uint16_t> weight, leaf_weight;
        std::vector<WeightDevice> weight_device;
        std::vector<ThrottleDevice> read_bps, write_bps, read_iops, write_iops;
    };
    struct Hugepage {
        std::string page_size;  // "2MB"
        uint64_t limit = 0;
    };
    struct Network {
        std::optional<uint32_t> class_id;
        std::vector<std::pair<std::string, uint32_t>> priorities;  // interface, priority
    };
    std::optional<Memory> memory;
    std::optional<Cpu> cpu;
    std::optional<int64_t> pids_limit;
    std::optional<BlockIo> block_io;
    std::vector<Hugepage> hugepage_limits;
    std::vector<DeviceRule> devices;
    std::optional<Network> network;
    std::map<std::string, std::string> unified;
};
// Parses a linux.resources object; errors name the field below `base`
// ("linux.resources.memory.limit: must be an integer"). Also used for the
// JSON that `bock-oci update --resources` reads.
Result<Resources> parse_resources(const nlohmann::json& j, std::string_view base);
// The field paths of the limits set in `r` ("memory.limit", "pids.limit").
std::vector<std::string> requested_limits(const Resources& r);

struct Spec {
    std::string oci_version;
    Process process;
    std::string root_path = "rootfs";
    bool root_readonly = false;
    std::string hostname;
    std::string domainname;
    std::vector<Mount> mounts;
    std::vector<Namespace> namespaces;
    std::vector<IdMap> uid_mappings, gid_mappings;
    std::vector<Device> devices;
    std::vector<std::string> masked_paths, readonly_paths;
    std::map<std::string, std::string> sysctl;
    std::string rootfs_propagation;
    std::optional<Seccomp> seccomp;
    std::optional<Resources> resources;  // linux.resources
    std::string cgroups_path;            // linux.cgroupsPath
    std::map<std::string, std::string> annotations;
    nlohmann::json raw;  // the whole document as read

    bool has_namespace(std::string_view type) const;
};

// Parses config.json text; `source` names the file in errors
// ("config.json: process.args: must be an array of strings").
Result<Spec> parse_spec(std::string_view json_text, std::string_view source);
Result<Spec> load_spec(const std::string& bundle_dir);
nlohmann::json to_json(const Spec& s);

// A default spec in the shape of `runc spec` (rootless: no user namespace
// mappings needed by the caller, no gid= on devpts; /sys stays a sysfs
// mount, which the runtime replaces with a read-only bind of the host's
// /sys when the kernel refuses it). The caller fills in process.args, env, root.
Spec default_spec(bool rootless);

}  // namespace bock::runtime
