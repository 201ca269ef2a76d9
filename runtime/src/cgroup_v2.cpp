// cgroup v2: linux.resources into the unified hierarchy's files, as runc
// and crun write them (cpu.max, cpu.weight, memory.max/low/swap.max,
// pids.max, io.max/io.weight, hugetlb.<size>.max, cpuset.*, unified keys
// verbatim), cgroup.freeze for pause, and statistics.
//
// Device rules need an eBPF program attached to the cgroup on v2; Bock
// does not load one yet, so linux.resources.devices is reported as not
// enforced (a warning), never silently dropped.
#include <chrono>
#include <sstream>
#include <thread>

#include "bock/common/log.hpp"
#include "cgroup_impl.hpp"

namespace bock::runtime::cg {

namespace {

std::string limit_text(int64_t v) { return v < 0 || v == INT64_MAX ? std::string("max") : std::to_string(v); }

Result<void> apply_memory(const std::string& dir, const Resources::Memory& m, std::vector<std::string>& warnings) {
    if (m.limit) BOCK_TRY(write(dir, "memory.max", limit_text(*m.limit)));
    if (m.reservation) BOCK_TRY(write(dir, "memory.low", limit_text(*m.reservation)));
    if (m.swap) {
        // The spec's swap is memory+swap (v1's memsw); v2 limits swap alone.
        std::string v = "max";
        if (*m.swap >= 0 && *m.swap != INT64_MAX) {
            if (!m.limit || *m.limit < 0)
                return make_error("linux.resources.memory.swap: needs memory.limit on cgroup v2");
            v = std::to_string(*m.swap - *m.limit);
        }
        if (exists(dir, "memory.swap.max")) BOCK_TRY(write(dir, "memory.swap.max", v));
        else warnings.push_back("memory.swap: the kernel has no swap accounting (memory.swap.max)");
    }
    if (m.kernel || m.kernel_tcp) warnings.push_back("memory.kernel, memory.kernelTCP: not in cgroup v2, ignored");
    if (m.swappiness) warnings.push_back("memory.swappiness: not in cgroup v2, ignored");
    if (m.disable_oom_killer.value_or(false)) warnings.push_back("memory.disableOOMKiller: not in cgroup v2, ignored");
    return ok();
}

Result<void> apply_cpu(const std::string& dir, const Resources::Cpu& c, std::vector<std::string>& warnings) {
    if (c.shares && *c.shares) BOCK_TRY(write(dir, "cpu.weight", std::to_string(shares_to_weight(*c.shares))));
    if (c.quota || c.period) {
        std::string quota = c.quota && *c.quota > 0 ? std::to_string(*c.quota) : "max";
        uint64_t period = c.period && *c.period ? *c.period : 100000;
        BOCK_TRY(write(dir, "cpu.max", fmt::format("{} {}", quota, period)));
    }
    if (c.idle) BOCK_TRY(write(dir, "cpu.idle", std::to_string(*c.idle)));
    if (c.realtime_period || c.realtime_runtime) warnings.push_back("cpu.realtimePeriod/realtimeRuntime: not in cgroup v2");
    if (!c.cpus.empty()) BOCK_TRY(write(dir, "cpuset.cpus", c.cpus));
    if (!c.mems.empty()) BOCK_TRY(write(dir, "cpuset.mems", c.mems));
    return ok();
}

Result<void> apply_io(const std::string& dir, const Resources::BlockIo& b) {
    if (b.weight && *b.weight) {
        std::string w = std::to_string(blkio_weight_to_io_weight(*b.weight));
        if (exists(dir, "io.bfq.weight")) BOCK_TRY(write(dir, "io.bfq.weight", "default " + std::to_string(*b.weight)));
        else BOCK_TRY(write(dir, "io.weight", "default " + w));
    }
    for (const auto& d : b.weight_device)
        if (d.weight)
            BOCK_TRY(write(dir, "io.weight",
                           fmt::format("{}:{} {}", d.major, d.minor, blkio_weight_to_io_weight(*d.weight))));
    auto max = [&](const std::vector<ThrottleDevice>& v, const char* key) -> Result<void> {
        for (const auto& t : v) BOCK_TRY(write(dir, "io.max", fmt::format("{}:{} {}={}", t.major, t.minor, key, t.rate)));
        return ok();
    };
    BOCK_TRY(max(b.read_bps, "rbps"));
    BOCK_TRY(max(b.write_bps, "wbps"));
    BOCK_TRY(max(b.read_iops, "riops"));
    BOCK_TRY(max(b.write_iops, "wiops"));
    return ok();
}

}  // namespace

uint64_t shares_to_weight(uint64_t shares) {
    // runc's ConvertCPUSharesToCgroupV2Value: [2, 262144] -> [1, 10000].
    if (shares == 0) return 0;
    if (shares < 2) shares = 2;
    if (shares > 262144) shares = 262144;
    return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t blkio_weight_to_io_weight(uint64_t weight) {
    // runc's ConvertBlkIOToIOWeightValue: [10, 1000] -> [1, 10000].
    if (weight == 0) return 0;
    if (weight < 10) weight = 10;
    return 1 + (weight - 10) * 9999 / 990;
}

void v2_enable_controllers(const std::vector<std::string>& ancestors) {
    for (const auto& dir : ancestors) {
        auto avail = read(dir, "cgroup.controllers");
        if (!avail) continue;
        std::istringstream in(*avail);
        std::string c;
        while (in >> c) {
            // One at a time: a parent with processes of its own refuses
            // some (EBUSY); the limits that need them fail later, by name.
            if (auto r = write(dir, "cgroup.subtree_control", "+" + c); !r)
                log::debug("enable the {} controller below `{}`: {}", c, dir, r.error().to_string());
        }
    }
}

Result<void> v2_apply(const std::string& dir, const Resources& r, std::vector<std::string>& warnings) {
    if (r.memory) BOCK_TRY(apply_memory(dir, *r.memory, warnings));
    if (r.cpu) BOCK_TRY(apply_cpu(dir, *r.cpu, warnings));
    if (r.pids_limit) BOCK_TRY(write(dir, "pids.max", *r.pids_limit > 0 ? std::to_string(*r.pids_limit) : "max"));
    if (r.block_io) BOCK_TRY(apply_io(dir, *r.block_io));
    for (const auto& h : r.hugepage_limits) {
        std::string file = fmt::format("hugetlb.{}.max", h.page_size);
        if (!exists(dir, file)) {
            warnings.push_back(fmt::format("hugepageLimits {}: the hugetlb controller is not available", h.page_size));
            continue;
        }
        BOCK_TRY(write(dir, file, std::to_string(h.limit)));
    }
    if (!r.devices.empty())
        warnings.push_back("devices: device rules are not enforced on cgroup v2 (no eBPF device filter yet)");
    if (r.network && (r.network->class_id || !r.network->priorities.empty()))
        warnings.push_back("network: the net_cls and net_prio controllers do not exist on cgroup v2");
    for (const auto& [key, value] : r.unified)
        BOCK_TRY_CTX(write(dir, key, value), fmt::format("linux.resources.unified.{}", key));
    return ok();
}

Result<void> v2_freeze(const std::string& dir, bool frozen) {
    BOCK_TRY(write(dir, "cgroup.freeze", frozen ? "1" : "0"));
    for (int i = 0; i < 500; ++i) {
        if (v2_frozen(dir) == frozen) return ok();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return make_error("the cgroup `{}` did not become {} within 5 s", dir, frozen ? "frozen" : "thawed");
}

bool v2_frozen(const std::string& dir) {
    auto events = read_flat_keyed(dir, "cgroup.events");
    if (events.contains("frozen")) return events["frozen"] == 1;
    return read(dir, "cgroup.freeze").value_or("0") == "1";
}

nlohmann::json v2_stats(const std::string& dir) {
    nlohmann::json cpu_stat = read_flat_keyed(dir, "cpu.stat");
    auto us = [&](const char* k) { return cpu_stat.value(k, uint64_t{0}) * 1000; };
    nlohmann::json mem_stat = read_flat_keyed(dir, "memory.stat");
    nlohmann::json out = {
        {"cpu",
         {{"usage", {{"total", us("usage_usec")}, {"kernel", us("system_usec")}, {"user", us("user_usec")}}},
          {"throttling",
           {{"periods", cpu_stat.value("nr_periods", uint64_t{0})},
            {"throttledPeriods", cpu_stat.value("nr_throttled", uint64_t{0})},
            {"throttledTime", us("throttled_usec")}}}}},
        {"memory",
         {{"usage", {{"usage", read_u64(dir, "memory.current").value_or(0)},
                     {"limit", read_u64(dir, "memory.max").value_or(0)},
                     {"max", read_u64(dir, "memory.peak").value_or(0)}}},
          {"swap", {{"usage", read_u64(dir, "memory.swap.current").value_or(0)},
                    {"limit", read_u64(dir, "memory.swap.max").value_or(0)}}},
          {"cache", mem_stat.value("file", uint64_t{0})},
          {"raw", mem_stat}}},
        {"pids", {{"current", read_u64(dir, "pids.current").value_or(0)}, {"limit", read_u64(dir, "pids.max").value_or(0)}}},
        {"blkio", nlohmann::json::object()},
        {"hugetlb", nlohmann::json::object()},
    };
    return out;
}

}  // namespace bock::runtime::cg
