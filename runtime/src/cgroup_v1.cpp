// cgroup v1: linux.resources into the per-controller hierarchies, as runc
// writes them: memory (limit, memsw, soft limit, swappiness, oom_control),
// cpu (shares, CFS quota/period, realtime), cpuset, pids, blkio, devices
// (deny all, then the rules), hugetlb, net_cls, net_prio; the freezer for
// pause; statistics for `events`. A controller the host lacks is a warning
// naming it (this machine has no hugetlb, net_cls or net_prio in v1).
#include <chrono>
#include <sstream>
#include <thread>

#include "cgroup_impl.hpp"

namespace bock::runtime::cg {

namespace {

std::string limit_text(int64_t v) { return v < 0 || v == INT64_MAX ? std::string("-1") : std::to_string(v); }

// Finds the controller's directory, or notes that the host lacks it.
std::optional<std::string> dir_or_warn(const CgroupPaths& cg, const char* controller, const char* what,
                                       std::vector<std::string>& warnings) {
    std::string dir = cg.dir_for(controller);
    if (dir.empty()) {
        warnings.push_back(fmt::format("{}: the host has no {} cgroup controller (v1), not enforced", what, controller));
        return std::nullopt;
    }
    return dir;
}

Result<void> apply_memory(const std::string& dir, const Resources::Memory& m, std::vector<std::string>& warnings) {
    bool memsw = exists(dir, "memory.memsw.limit_in_bytes");
    if (m.swap && !memsw) warnings.push_back("memory.swap: the kernel has no swap accounting (memory.memsw), not enforced");
    if (m.limit || m.swap) {
        // memory <= memory+swap at every moment: order the two writes.
        std::string limit = m.limit ? limit_text(*m.limit) : "";
        std::string swap = m.swap ? limit_text(*m.swap) : "";
        auto first = limit.empty() ? Result<void>() : write(dir, "memory.limit_in_bytes", limit);
        if (!first && first.error().code() != EINVAL) return first;
        if (memsw && !swap.empty()) BOCK_TRY(write(dir, "memory.memsw.limit_in_bytes", swap));
        if (!first) BOCK_TRY(write(dir, "memory.limit_in_bytes", limit));
    }
    if (m.reservation) BOCK_TRY(write(dir, "memory.soft_limit_in_bytes", limit_text(*m.reservation)));
    if (m.kernel) {
        if (auto r = write(dir, "memory.kmem.limit_in_bytes", limit_text(*m.kernel)); !r)
            warnings.push_back(fmt::format("memory.kernel: {} (deprecated by the kernel)", r.error().to_string()));
    }
    if (m.kernel_tcp) BOCK_TRY(write(dir, "memory.kmem.tcp.limit_in_bytes", limit_text(*m.kernel_tcp)));
    if (m.swappiness && *m.swappiness <= 100) BOCK_TRY(write(dir, "memory.swappiness", std::to_string(*m.swappiness)));
    if (m.disable_oom_killer.value_or(false)) BOCK_TRY(write(dir, "memory.oom_control", "1"));
    return ok();
}

Result<void> apply_cpu(const std::string& dir, const Resources::Cpu& c, std::vector<std::string>& warnings) {
    if (c.shares && *c.shares) BOCK_TRY(write(dir, "cpu.shares", std::to_string(*c.shares)));
    if (c.period && *c.period) BOCK_TRY(write(dir, "cpu.cfs_period_us", std::to_string(*c.period)));
    if (c.quota && *c.quota) BOCK_TRY(write(dir, "cpu.cfs_quota_us", std::to_string(*c.quota)));
    if (c.realtime_period && *c.realtime_period)
        BOCK_TRY(write(dir, "cpu.rt_period_us", std::to_string(*c.realtime_period)));
    if (c.realtime_runtime && *c.realtime_runtime)
        BOCK_TRY(write(dir, "cpu.rt_runtime_us", std::to_string(*c.realtime_runtime)));
    if (c.idle) {
        if (exists(dir, "cpu.idle")) BOCK_TRY(write(dir, "cpu.idle", std::to_string(*c.idle)));
        else warnings.push_back("cpu.idle: the kernel has no cpu.idle, not enforced");
    }
    return ok();
}

Result<void> apply_blkio(const std::string& dir, const Resources::BlockIo& b, std::vector<std::string>& warnings) {
    // CFQ's blkio.weight is gone since Linux 5.0; BFQ's blkio.bfq.weight
    // exists only while BFQ schedules some disk.
    std::string weight_file = exists(dir, "blkio.weight") ? "blkio.weight" : "blkio.bfq.weight";
    if ((b.weight && *b.weight) || !b.weight_device.empty()) {
        if (!exists(dir, weight_file)) {
            warnings.push_back("blockIO.weight: no blkio weight file (the disk scheduler is not BFQ), not enforced");
        } else {
            if (b.weight && *b.weight) BOCK_TRY(write(dir, weight_file, std::to_string(*b.weight)));
            for (const auto& d : b.weight_device)
                if (d.weight)
                    BOCK_TRY(write(dir, weight_file + (weight_file == "blkio.weight" ? "_device" : ""),
                                   fmt::format("{}:{} {}", d.major, d.minor, *d.weight)));
        }
    }
    if (b.leaf_weight) warnings.push_back("blockIO.leafWeight: removed from the kernel, ignored");
    auto throttle = [&](const std::vector<ThrottleDevice>& v, const char* file) -> Result<void> {
        for (const auto& t : v) BOCK_TRY(write(dir, file, fmt::format("{}:{} {}", t.major, t.minor, t.rate)));
        return ok();
    };
    BOCK_TRY(throttle(b.read_bps, "blkio.throttle.read_bps_device"));
    BOCK_TRY(throttle(b.write_bps, "blkio.throttle.write_bps_device"));
    BOCK_TRY(throttle(b.read_iops, "blkio.throttle.read_iops_device"));
    BOCK_TRY(throttle(b.write_iops, "blkio.throttle.write_iops_device"));
    return ok();
}

Result<void> apply_devices(const std::string& dir, const std::vector<DeviceRule>& rules) {
    for (const auto& rule : v1_device_rules(rules))
        BOCK_TRY(write(dir, rule.allow ? "devices.allow" : "devices.deny", rule.line));
    return ok();
}

}  // namespace

// The devices controller's rules, in runc's order: "deny a" first (the
// spec's own rules usually start with it), then the spec's rules, then the
// devices every container needs (runc's AllowedDevices): mknod of any
// node, /dev/null, zero, full, random, urandom, tty, console, ptmx, the
// pts slaves and /dev/net/tun. A container's other linux.devices come with
// their own allow rules from the engine (podman adds them to resources).
std::string device_line(const DeviceRule& r) {
    auto num = [](const std::optional<int64_t>& v) { return v ? std::to_string(*v) : std::string("*"); };
    if (r.type == "a") return "a";
    return fmt::format("{} {}:{} {}", r.type, num(r.major), num(r.minor), r.access);
}

std::vector<DeviceLine> v1_device_rules(const std::vector<DeviceRule>& spec_rules) {
    std::vector<DeviceLine> out{{false, "a"}};
    for (const auto& r : spec_rules) {
        // "deny a" again would be redundant; "allow a" opens everything.
        if (!r.allow && r.type == "a" && out.size() == 1) continue;
        out.push_back({r.allow, device_line(r)});
    }
    static const char* const kDefaults[] = {
        "c *:* m", "b *:* m",            // mknod of any node (use still denied)
        "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",  // null zero full random urandom
        "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm",  // tty console ptmx
        "c 136:* rwm",                         // /dev/pts/N
        "c 10:200 rwm",                        // /dev/net/tun
    };
    for (const char* line : kDefaults) out.push_back({true, line});
    return out;
}

Result<void> v1_apply(const CgroupPaths& cg, const Resources& r, std::vector<std::string>& warnings) {
    if (r.memory)
        if (auto d = dir_or_warn(cg, "memory", "memory", warnings)) BOCK_TRY(apply_memory(*d, *r.memory, warnings));
    if (r.cpu) {
        if (auto d = dir_or_warn(cg, "cpu", "cpu", warnings)) BOCK_TRY(apply_cpu(*d, *r.cpu, warnings));
        if (!r.cpu->cpus.empty() || !r.cpu->mems.empty())
            if (auto d = dir_or_warn(cg, "cpuset", "cpu.cpus/mems", warnings)) {
                if (!r.cpu->cpus.empty()) BOCK_TRY(write(*d, "cpuset.cpus", r.cpu->cpus));
                if (!r.cpu->mems.empty()) BOCK_TRY(write(*d, "cpuset.mems", r.cpu->mems));
            }
    }
    if (r.pids_limit)
        if (auto d = dir_or_warn(cg, "pids", "pids.limit", warnings))
            BOCK_TRY(write(*d, "pids.max", *r.pids_limit > 0 ? std::to_string(*r.pids_limit) : "max"));
    if (r.block_io)
        if (auto d = dir_or_warn(cg, "blkio", "blockIO", warnings)) BOCK_TRY(apply_blkio(*d, *r.block_io, warnings));
    if (!r.hugepage_limits.empty())
        if (auto d = dir_or_warn(cg, "hugetlb", "hugepageLimits", warnings))
            for (const auto& h : r.hugepage_limits)
                BOCK_TRY(write(*d, fmt::format("hugetlb.{}.limit_in_bytes", h.page_size), std::to_string(h.limit)));
    if (!r.devices.empty())
        if (auto d = dir_or_warn(cg, "devices", "devices", warnings)) BOCK_TRY(apply_devices(*d, r.devices));
    if (r.network && r.network->class_id)
        if (auto d = dir_or_warn(cg, "net_cls", "network.classID", warnings))
            BOCK_TRY(write(*d, "net_cls.classid", std::to_string(*r.network->class_id)));
    if (r.network && !r.network->priorities.empty())
        if (auto d = dir_or_warn(cg, "net_prio", "network.priorities", warnings))
            for (const auto& [ifname, prio] : r.network->priorities)
                BOCK_TRY(write(*d, "net_prio.ifpriomap", fmt::format("{} {}", ifname, prio)));
    if (!r.unified.empty())
        warnings.push_back("unified: cgroup v2 keys cannot be written on this cgroup v1 host, ignored");
    return ok();
}

Result<void> v1_freeze(const CgroupPaths& cg, bool frozen) {
    std::string dir = cg.dir_for("freezer");
    if (dir.empty()) return make_error("the host has no freezer cgroup controller (v1)");
    const char* want = frozen ? "FROZEN" : "THAWED";
    for (int i = 0; i < 500; ++i) {
        // Writing FROZEN again nudges a freezer stuck in FREEZING (runc does).
        if (i % 10 == 0) BOCK_TRY(write(dir, "freezer.state", want));
        if (read(dir, "freezer.state").value_or("") == want) return ok();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (frozen) (void)write(dir, "freezer.state", "THAWED");
    return make_error("the freezer cgroup `{}` did not reach {} within 5 s", dir, want);
}

bool v1_frozen(const CgroupPaths& cg) {
    std::string dir = cg.dir_for("freezer");
    if (dir.empty()) return false;
    auto s = read(dir, "freezer.state").value_or("");
    return s == "FROZEN" || s == "FREEZING";
}

nlohmann::json v1_stats(const CgroupPaths& cg) {
    nlohmann::json out = {{"cpu", nlohmann::json::object()},    {"memory", nlohmann::json::object()},
                          {"pids", nlohmann::json::object()},   {"blkio", nlohmann::json::object()},
                          {"hugetlb", nlohmann::json::object()}};
    if (std::string d = cg.dir_for("cpuacct"); !d.empty()) {
        std::vector<uint64_t> percpu;
        std::istringstream in(read(d, "cpuacct.usage_percpu").value_or(""));
        for (uint64_t v; in >> v;) percpu.push_back(v);
        auto st = read_flat_keyed(d, "cpuacct.stat");  // USER_HZ ticks
        uint64_t tick_ns = 1000000000ULL / 100;
        out["cpu"]["usage"] = {{"total", read_u64(d, "cpuacct.usage").value_or(0)},
                               {"percpu", percpu},
                               {"kernel", st.value("system", uint64_t{0}) * tick_ns},
                               {"user", st.value("user", uint64_t{0}) * tick_ns}};
    }
    if (std::string d = cg.dir_for("cpu"); !d.empty()) {
        auto st = read_flat_keyed(d, "cpu.stat");
        out["cpu"]["throttling"] = {{"periods", st.value("nr_periods", uint64_t{0})},
                                    {"throttledPeriods", st.value("nr_throttled", uint64_t{0})},
                                    {"throttledTime", st.value("throttled_time", uint64_t{0})}};
    }
    if (std::string d = cg.dir_for("memory"); !d.empty()) {
        auto entry = [&](const std::string& prefix) {
            return nlohmann::json{{"usage", read_u64(d, prefix + "usage_in_bytes").value_or(0)},
                                  {"max", read_u64(d, prefix + "max_usage_in_bytes").value_or(0)},
                                  {"failcnt", read_u64(d, prefix + "failcnt").value_or(0)},
                                  {"limit", read_u64(d, prefix + "limit_in_bytes").value_or(0)}};
        };
        auto raw = read_flat_keyed(d, "memory.stat");
        out["memory"] = {{"usage", entry("memory.")},
                         {"swap", entry("memory.memsw.")},
                         {"kernel", entry("memory.kmem.")},
                         {"cache", raw.value("total_cache", raw.value("cache", uint64_t{0}))},
                         {"raw", raw}};
    }
    if (std::string d = cg.dir_for("pids"); !d.empty())
        out["pids"] = {{"current", read_u64(d, "pids.current").value_or(0)},
                       {"limit", read_u64(d, "pids.max").value_or(0)}};
    return out;
}

}  // namespace bock::runtime::cg
