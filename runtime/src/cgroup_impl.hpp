// Private to the cgroup files: file helpers and the v1/v2 writers behind
// bock/runtime/cgroup.hpp.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bock/runtime/cgroup.hpp"

namespace bock::runtime::cg {

// Writes `value` into DIR/FILE (O_TRUNC as runc, no O_CREAT: cgroupfs files exist or the
// controller is missing). Errors name the file: "write `10` to `/sys/..`".
Result<void> write(const std::string& dir, const std::string& file, std::string_view value);
// The file's text without the trailing newline; nullopt if unreadable.
std::optional<std::string> read(const std::string& dir, const std::string& file);
std::optional<uint64_t> read_u64(const std::string& dir, const std::string& file);
// "key value" lines (memory.stat, cpu.stat) into an object of numbers.
nlohmann::json read_flat_keyed(const std::string& dir, const std::string& file);
bool exists(const std::string& dir, const std::string& file);

// cgroup_v1.cpp
Result<void> v1_apply(const CgroupPaths& cg, const Resources& r, std::vector<std::string>& warnings);
Result<void> v1_freeze(const CgroupPaths& cg, bool frozen);
bool v1_frozen(const CgroupPaths& cg);
nlohmann::json v1_stats(const CgroupPaths& cg);

// cgroup_v2.cpp
Result<void> v2_apply(const std::string& dir, const Resources& r, std::vector<std::string>& warnings);
// Enables the available controllers in each of `ancestors`' subtree_control.
void v2_enable_controllers(const std::vector<std::string>& ancestors);
Result<void> v2_freeze(const std::string& dir, bool frozen);
bool v2_frozen(const std::string& dir);
nlohmann::json v2_stats(const std::string& dir);
// runc's conversions (exposed for unit tests).
uint64_t shares_to_weight(uint64_t shares);
uint64_t blkio_weight_to_io_weight(uint64_t weight);

// cgroup_v1.cpp: the v1 device rules, runc's order: the spec's rules
// after "deny a", then the devices every container needs (null, zero, full,
// tty, random, urandom, console, ptmx, pts, tun; mknod of any node) and
// the spec's linux.devices.
struct DeviceLine {
    bool allow;
    std::string line;  // "c 1:3 rwm"
};
std::vector<DeviceLine> v1_device_rules(const std::vector<DeviceRule>& spec_rules);
std::string device_line(const DeviceRule& r);

}  // namespace bock::runtime::cg
