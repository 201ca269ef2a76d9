// bock-oci update [--resources FILE|-] [--memory N] [--memory-reservation N]
//   [--memory-swap N] [--pids-limit N] [--cpu-shares N] [--cpu-quota N]
//   [--cpu-period N] [--cpu-rt-period N] [--cpu-rt-runtime N]
//   [--cpuset-cpus L] [--cpuset-mems L] [--blkio-weight N] ID
//
// Changes a running container's limits, as runc: --resources reads a
// linux.resources object (containerd and podman pass it on stdin with
// `-`); the flags override its fields. Sizes take k, m, g suffixes.
#include <unistd.h>

#include <cctype>
#include <iostream>
#include <iterator>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/runtime/cgroup.hpp"
#include "bock/runtime/state.hpp"
#include "commands.hpp"

namespace bock::oci {

namespace {

struct UpdateArgs {
    std::string id, resources;
    std::string memory, memory_reservation, memory_swap, cpuset_cpus, cpuset_mems;
    std::optional<int64_t> pids_limit, cpu_quota, cpu_rt_runtime;
    std::optional<uint64_t> cpu_shares, cpu_period, cpu_rt_period;
    std::optional<uint16_t> blkio_weight;
};

// "64m" -> 67108864; "-1" -> -1.
Result<int64_t> parse_size(const std::string& flag, const std::string& text) {
    if (text == "-1") return -1;
    size_t i = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == 0) return make_error("{} `{}`: not a size (a number with an optional k, m or g)", flag, text);
    int64_t n = std::stoll(text.substr(0, i));
    std::string unit = text.substr(i);
    for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (unit == "" || unit == "b") return n;
    if (unit == "k" || unit == "kb") return n << 10;
    if (unit == "m" || unit == "mb") return n << 20;
    if (unit == "g" || unit == "gb") return n << 30;
    return make_error("{} `{}`: unknown unit `{}` (use k, m or g)", flag, text, unit);
}

Result<runtime::Resources> read_resources(const std::string& source) {
    std::string text;
    if (source == "-") {
        text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
        text = BOCK_TRY_CTX(fs::read_file(source), "read the resources");
    }
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded()) return make_error("--resources `{}`: not valid JSON", source);
    return runtime::parse_resources(j, source == "-" ? "stdin" : source);
}

Result<runtime::Resources> build(const UpdateArgs& a) {
    runtime::Resources r;
    if (!a.resources.empty()) r = BOCK_TRY(read_resources(a.resources));
    auto mem = [&]() -> runtime::Resources::Memory& { if (!r.memory) r.memory.emplace(); return *r.memory; };
    auto cpu = [&]() -> runtime::Resources::Cpu& { if (!r.cpu) r.cpu.emplace(); return *r.cpu; };
    if (!a.memory.empty()) mem().limit = BOCK_TRY(parse_size("--memory", a.memory));
    if (!a.memory_reservation.empty()) mem().reservation = BOCK_TRY(parse_size("--memory-reservation", a.memory_reservation));
    if (!a.memory_swap.empty()) mem().swap = BOCK_TRY(parse_size("--memory-swap", a.memory_swap));
    if (a.pids_limit) r.pids_limit = a.pids_limit;
    if (a.cpu_shares) cpu().shares = a.cpu_shares;
    if (a.cpu_quota) cpu().quota = a.cpu_quota;
    if (a.cpu_period) cpu().period = a.cpu_period;
    if (a.cpu_rt_period) cpu().realtime_period = a.cpu_rt_period;
    if (a.cpu_rt_runtime) cpu().realtime_runtime = a.cpu_rt_runtime;
    if (!a.cpuset_cpus.empty()) cpu().cpus = a.cpuset_cpus;
    if (!a.cpuset_mems.empty()) cpu().mems = a.cpuset_mems;
    if (a.blkio_weight) {
        r.block_io.emplace();
        r.block_io->weight = a.blkio_weight;
    }
    return r;
}

Result<void> update(const GlobalOptions& g, const UpdateArgs& a) {
    std::string root = BOCK_TRY(state_root(g));
    runtime::ContainerState st = BOCK_TRY(runtime::load_state(root, a.id));
    runtime::Status status = runtime::container_status(root, st);
    if (status == runtime::Status::stopped) return make_error("cannot update container `{}`: it is stopped", a.id);
    runtime::Resources r = BOCK_TRY(build(a));
    auto cg = runtime::CgroupPaths::from_json(st.cgroup);
    if (cg.empty())
        return make_error("container `{}` has no cgroup: its limits cannot be changed", a.id)
            .with_hint("rootless containers need cgroup v2 with systemd delegation");
    std::vector<std::string> warnings;
    BOCK_TRY_CTX(runtime::cgroup_apply(cg, r, warnings), fmt::format("update container `{}`", a.id));
    for (const auto& w : warnings) log::warn("{}", w);
    return ok();
}

}  // namespace

void add_update_command(CLI::App& app, const GlobalOptions& g, int& exit_code) {
    auto* cmd = app.add_subcommand("update", "change the resource limits of a container");
    auto a = std::make_shared<UpdateArgs>();
    cmd->add_option("-r,--resources", a->resources, "a linux.resources JSON file, or - for stdin");
    cmd->add_option("-m,--memory", a->memory, "memory limit (bytes, or with k, m, g)");
    cmd->add_option("--memory-reservation", a->memory_reservation, "memory soft limit");
    cmd->add_option("--memory-swap", a->memory_swap, "memory plus swap limit (-1: unlimited)");
    cmd->add_option("--pids-limit", a->pids_limit, "maximum number of processes (0 or -1: unlimited)");
    cmd->add_option("--cpu-shares", a->cpu_shares, "CPU shares (relative weight)");
    cmd->add_option("--cpu-quota", a->cpu_quota, "CPU CFS quota in microseconds per period");
    cmd->add_option("--cpu-period", a->cpu_period, "CPU CFS period in microseconds");
    cmd->add_option("--cpu-rt-period", a->cpu_rt_period, "realtime period in microseconds");
    cmd->add_option("--cpu-rt-runtime", a->cpu_rt_runtime, "realtime runtime in microseconds");
    cmd->add_option("--cpuset-cpus", a->cpuset_cpus, "CPUs allowed (0-3, 0,1)");
    cmd->add_option("--cpuset-mems", a->cpuset_mems, "memory nodes allowed");
    cmd->add_option("--blkio-weight", a->blkio_weight, "block IO weight (10 to 1000)");
    cmd->add_option("container-id", a->id, "the container")->required();
    cmd->callback([&g, a, &exit_code] {
        auto r = update(g, *a);
        exit_code = r ? 0 : fail(r.error());
    });
}

}  // namespace bock::oci
