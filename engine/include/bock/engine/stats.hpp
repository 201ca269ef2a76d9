// `bock stats` (issue 18): CPU, memory, network and block I/O, pids and
// pressure (PSI) of running containers. Each figure comes from the best
// source the host gives, and says which:
//   - the container's cgroup (root; rootless only with cgroup v2
//     delegation): CPU time, memory usage/limit, pids, block I/O;
//   - else /proc of the container's processes (rootless on cgroup v1):
//     CPU time (utime+stime, with reaped children's), memory as the sum of
//     RSS (shared pages counted once per process), pids, block I/O from
//     /proc/PID/io; the limit is the host's memory;
//   - network I/O from /proc/PID/net/dev of its PID 1 (its namespace's
//     interfaces but lo), any host;
//   - pressure: the container's cgroup2 group (cpu.pressure,
//     memory.pressure, io.pressure), which needs cgroup v2 (or a group of
//     its own in the cgroup2 mount of a hybrid host); else the host's
//     /proc/pressure, said so; else none.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bock/common/error.hpp"
#include "bock/engine/context.hpp"

namespace bock::engine {

struct ContainerStats {
    std::string id, name;
    int64_t sampled_ns = 0;   // CLOCK_MONOTONIC of the sample
    int64_t up_ns = 0;        // since the container started
    uint64_t cpu_ns = 0;      // CPU time used
    double cpu_percent = 0;   // since the previous sample, else over its life (100 = one core)
    double avg_cpu = 0;       // over its life
    uint64_t mem_usage = 0, mem_limit = 0;
    double mem_percent = 0;
    std::optional<uint64_t> net_rx, net_tx;      // none: it shares the host's network
    uint64_t block_read = 0, block_write = 0;
    uint64_t pids = 0;
    // {"cpu": {"some": {"avg10", "avg60", "avg300", "total"}, "full": {...}}, "memory": ..., "io": ...}
    nlohmann::json pressure = nlohmann::json::object();
    // figure -> where it came from: cpu, memory, pids, block_io, net_io,
    // pressure -> "cgroup", "cgroup2 group", "/proc", "host /proc/pressure", "none"
    std::map<std::string, std::string> sources;
};

// One sample of each container named (id, prefix or name; all running
// containers when none is named). `previous` (by id) gives the CPU % over
// the interval since; without one it is over the container's life.
Result<std::vector<ContainerStats>> sample_stats(Context& ctx, const std::vector<std::string>& keys,
                                                 const std::map<std::string, ContainerStats>& previous);

// podman's JSON entry (id, name, cpu_time, cpu_percent, avg_cpu,
// mem_usage, mem_limit, mem_percent, net_io, block_io, pids as text) plus
// the figures as numbers, "pressure" and "sources".
nlohmann::json stats_json(const ContainerStats& s);
// The fields of --format templates: podman's .ID .Name .CPUPerc .MemUsage
// .MemUsageBytes .MemPerc .NetIO .BlockIO .PIDs .CPU .AVGCPU .UpTime, and
// .PSI (some avg10 of cpu/memory/io) and .Pressure (the document).
nlohmann::json stats_fields(const ContainerStats& s);
// One line per kind of figure that did not come from a per-container
// cgroup (what is missing and why), for stderr; empty when nothing is.
std::vector<std::string> stats_notes(const std::vector<ContainerStats>& all);

}  // namespace bock::engine
