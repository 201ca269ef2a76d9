// `bock stats` (stats.hpp): one sample of each container, figure by
// figure from the best source this host has.
#include "bock/engine/stats.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <ctime>
#include <set>

#include "bock/common/fs.hpp"
#include "bock/common/strings.hpp"
#include "bock/engine/containers.hpp"
#include "bock/runtime/cgroup.hpp"
#include "container_cgroup.hpp"
#include "container_dirs.hpp"
#include "proc_info.hpp"

namespace bock::engine {
namespace {

int64_t monotonic_ns() {
    struct timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

uint64_t host_memory() {
    auto text = fs::read_file("/proc/meminfo").value_or("");
    auto at = text.find("MemTotal:");
    return at == std::string::npos ? 0 : std::strtoull(text.c_str() + at + 9, nullptr, 10) * 1024;
}

// "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull ..." -> JSON.
std::optional<nlohmann::json> read_pressure(const std::string& path) {
    auto text = fs::read_file(path);
    if (!text || text->empty()) return std::nullopt;
    nlohmann::json out = nlohmann::json::object();
    for (const auto& line : strings::split(*text, '\n')) {
        auto f = strings::split_ws(line);
        if (f.empty()) continue;
        nlohmann::json kind = nlohmann::json::object();
        for (size_t i = 1; i < f.size(); i++) {
            auto eq = f[i].find('=');
            if (eq == std::string_view::npos) continue;
            std::string k(f[i].substr(0, eq)), v(f[i].substr(eq + 1));
            if (k == "total") kind[k] = std::strtoull(v.c_str(), nullptr, 10);
            else kind[k] = std::strtod(v.c_str(), nullptr);
        }
        out[std::string(f[0])] = kind;
    }
    return out;
}

// v1 blkio "8:0 Read 4096" lines, v2 io.stat "8:0 rbytes=4096 wbytes=0 ...".
void cgroup_block_io(const runtime::CgroupPaths& cg, uint64_t& rd, uint64_t& wr) {
    if (cg.mode == runtime::CgroupMode::v2) {
        for (const auto& line : strings::split(fs::read_file(cg.unified + "/io.stat").value_or(""), '\n'))
            for (auto f : strings::split_ws(line)) {
                if (f.starts_with("rbytes=")) rd += std::strtoull(std::string(f.substr(7)).c_str(), nullptr, 10);
                if (f.starts_with("wbytes=")) wr += std::strtoull(std::string(f.substr(7)).c_str(), nullptr, 10);
            }
        return;
    }
    std::string dir = cg.dir_for("blkio");
    if (dir.empty()) return;
    auto text = fs::read_file(dir + "/blkio.throttle.io_service_bytes_recursive");
    if (!text || text->empty()) text = fs::read_file(dir + "/blkio.throttle.io_service_bytes");
    for (const auto& line : strings::split(text.value_or(""), '\n')) {
        auto f = strings::split_ws(line);
        if (f.size() != 3) continue;
        uint64_t v = std::strtoull(std::string(f[2]).c_str(), nullptr, 10);
        if (f[1] == "Read") rd += v;
        if (f[1] == "Write") wr += v;
    }
}

ino_t ns_inode(const std::string& path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

ContainerStats sample_one(const Context& ctx, const ContainerInfo& c, const ContainerProcs& procs,
                          const ContainerStats* prev) {
    ContainerStats s;
    s.id = c.rec.id;
    s.name = c.rec.name;
    s.sampled_ns = monotonic_ns();
    auto cg = container_cgroup(ctx, c.rec);
    nlohmann::json cgs = cg ? runtime::cgroup_stats(*cg) : nlohmann::json::object();
    uint64_t host_mem = host_memory();

    // Per process, for what the cgroup does not give.
    std::vector<ProcInfo> infos;
    for (pid_t p : procs.pids)
        if (auto i = read_proc(p)) infos.push_back(std::move(*i));

    // CPU
    uint64_t cg_cpu = cgs.contains("cpu") ? cgs["cpu"].value("usage", nlohmann::json::object()).value("total", uint64_t{0}) : 0;
    if (cg && cg_cpu > 0) {
        s.cpu_ns = cg_cpu;
        s.sources["cpu"] = "cgroup";
    } else {
        uint64_t ticks = 0;
        for (const auto& i : infos) ticks += i.utime + i.stime + i.cutime + i.cstime;
        s.cpu_ns = ticks * 1000000000ULL / static_cast<uint64_t>(clock_ticks());
        s.sources["cpu"] = "/proc";
    }
    // Up time: from PID 1's start.
    if (auto init = read_proc(procs.init)) {
        double up = uptime_seconds() - static_cast<double>(init->start) / static_cast<double>(clock_ticks());
        s.up_ns = static_cast<int64_t>(std::max(0.0, up) * 1e9);
    }
    s.avg_cpu = s.up_ns > 0 ? static_cast<double>(s.cpu_ns) / static_cast<double>(s.up_ns) * 100.0 : 0.0;
    s.cpu_percent = s.avg_cpu;
    if (prev && s.sampled_ns > prev->sampled_ns && s.cpu_ns >= prev->cpu_ns)
        s.cpu_percent = static_cast<double>(s.cpu_ns - prev->cpu_ns) / static_cast<double>(s.sampled_ns - prev->sampled_ns) * 100.0;

    // Memory
    auto mem = cgs.contains("memory") ? cgs["memory"] : nlohmann::json::object();
    uint64_t cg_usage = mem.is_object() && mem.contains("usage") ? mem["usage"].value("usage", uint64_t{0}) : 0;
    if (cg && cg_usage > 0) {
        // Docker's usage: without the inactive file cache the kernel can drop.
        auto raw = mem.value("raw", nlohmann::json::object());
        uint64_t inactive = raw.value("total_inactive_file", raw.value("inactive_file", uint64_t{0}));
        s.mem_usage = cg_usage > inactive ? cg_usage - inactive : cg_usage;
        uint64_t limit = mem["usage"].value("limit", uint64_t{0});
        s.mem_limit = limit == 0 || limit >= host_mem ? host_mem : limit;
        s.sources["memory"] = "cgroup";
    } else {
        for (const auto& i : infos) s.mem_usage += i.rss;
        s.mem_limit = host_mem;
        s.sources["memory"] = "/proc";
    }
    s.mem_percent = s.mem_limit ? static_cast<double>(s.mem_usage) / static_cast<double>(s.mem_limit) * 100.0 : 0.0;

    // Pids
    uint64_t cg_pids = cgs.contains("pids") ? cgs["pids"].value("current", uint64_t{0}) : 0;
    if (cg && cg_pids > 0) {
        s.pids = cg_pids;
        s.sources["pids"] = "cgroup";
    } else {
        s.pids = infos.size();
        s.sources["pids"] = "/proc";
    }

    // Block I/O
    if (cg) cgroup_block_io(*cg, s.block_read, s.block_write);
    if (cg && (cg->mode == runtime::CgroupMode::v2 || !cg->dir_for("blkio").empty())) {
        s.sources["block_io"] = "cgroup";
    } else {
        for (const auto& i : infos) {
            auto io = fs::read_file(fmt::format("/proc/{}/io", i.pid)).value_or("");
            for (const auto& line : strings::split(io, '\n')) {
                if (line.starts_with("read_bytes:")) s.block_read += std::strtoull(line.c_str() + 11, nullptr, 10);
                if (line.starts_with("write_bytes:")) s.block_write += std::strtoull(line.c_str() + 12, nullptr, 10);
            }
        }
        s.sources["block_io"] = "/proc";
    }

    // Network: the interfaces of its namespace but lo.
    if (ns_inode(fmt::format("/proc/{}/ns/net", procs.init)) == ns_inode("/proc/self/ns/net")) {
        s.sources["net_io"] = "none (the host's network)";
    } else {
        uint64_t rx = 0, tx = 0;
        for (const auto& line : strings::split(fs::read_file(fmt::format("/proc/{}/net/dev", procs.init)).value_or(""), '\n')) {
            auto colon = line.find(':');
            if (colon == std::string::npos) continue;
            std::string name = line.substr(0, colon);
            name.erase(0, name.find_first_not_of(' '));
            if (name == "lo") continue;
            auto f = strings::split_ws(std::string_view(line).substr(colon + 1));
            if (f.size() < 9) continue;
            rx += std::strtoull(std::string(f[0]).c_str(), nullptr, 10);
            tx += std::strtoull(std::string(f[8]).c_str(), nullptr, 10);
        }
        s.net_rx = rx;
        s.net_tx = tx;
        s.sources["net_io"] = "/proc";
    }

    // Pressure: the container's own cgroup2 group, else the host's.
    std::string group_dir, group_source;
    if (cg && cg->mode == runtime::CgroupMode::v2) {
        group_dir = cg->unified;
        group_source = "cgroup";
    } else if (auto g = own_unified_group(procs.init, container_parent(c.rec)); !g.empty()) {
        if (auto layout = runtime::detect_cgroups(); layout && layout->mode == runtime::CgroupMode::v1 && layout->hybrid) {
            group_dir = "/sys/fs/cgroup/unified" + g;
            group_source = "cgroup2 group";
        }
    }
    for (const char* kind : {"cpu", "memory", "io"}) {
        std::optional<nlohmann::json> p;
        if (!group_dir.empty()) p = read_pressure(fmt::format("{}/{}.pressure", group_dir, kind));
        if (p) {
            s.sources["pressure"] = group_source;
        } else if ((p = read_pressure(fmt::format("/proc/pressure/{}", kind)))) {
            if (!s.sources.count("pressure")) s.sources["pressure"] = "host /proc/pressure";
        }
        if (p) s.pressure[kind] = *p;
    }
    if (!s.sources.count("pressure")) s.sources["pressure"] = "none";
    return s;
}

std::string percent(double v) { return fmt::format("{:.2f}%", v); }

std::string go_secs(int64_t ns) {
    // podman prints CPU time and up time as Go durations; rounded to ms.
    double s = static_cast<double>(ns) / 1e9;
    if (s < 60) return fmt::format("{:.3f}s", s);
    int64_t total = ns / 1000000000;
    if (total < 3600) return fmt::format("{}m{:.3f}s", total / 60, s - static_cast<double>(total / 60 * 60));
    return fmt::format("{}h{}m{}s", total / 3600, total / 60 % 60, total % 60);
}

std::string psi_text(const ContainerStats& s) {
    auto one = [&](const char* k) {
        if (!s.pressure.contains(k)) return std::string("-");
        return fmt::format("{:.2f}", s.pressure[k].value("some", nlohmann::json::object()).value("avg10", 0.0));
    };
    return one("cpu") + "/" + one("memory") + "/" + one("io");
}

}  // namespace

Result<std::vector<ContainerStats>> sample_stats(Context& ctx, const std::vector<std::string>& keys,
                                                 const std::map<std::string, ContainerStats>& previous) {
    std::vector<ContainerInfo> list;
    if (keys.empty()) {
        for (auto& c : BOCK_TRY(list_containers(ctx)))
            if (c.status == "running") list.push_back(std::move(c));
    } else {
        for (const auto& k : keys) list.push_back(BOCK_TRY(find_container(ctx, k)));
    }
    std::vector<ContainerStats> out;
    for (const auto& c : list) {
        auto procs = container_processes(ctx, c);
        if (!procs) {
            if (keys.empty()) continue;  // it ended meanwhile
            return std::move(procs.error()).wrap("stats");
        }
        auto prev = previous.find(c.rec.id);
        out.push_back(sample_one(ctx, c, *procs, prev == previous.end() ? nullptr : &prev->second));
    }
    return out;
}

nlohmann::json stats_json(const ContainerStats& s) {
    std::string net = s.net_rx ? strings::human_size(*s.net_rx) + " / " + strings::human_size(*s.net_tx) : "-- / --";
    nlohmann::json j{{"id", s.id.substr(0, 12)},
                     {"name", s.name},
                     {"cpu_time", go_secs(static_cast<int64_t>(s.cpu_ns))},
                     {"cpu_percent", percent(s.cpu_percent)},
                     {"avg_cpu", percent(s.avg_cpu)},
                     {"mem_usage", strings::human_size(s.mem_usage) + " / " + strings::human_size(s.mem_limit)},
                     {"mem_percent", percent(s.mem_percent)},
                     {"net_io", net},
                     {"block_io", strings::human_size(s.block_read) + " / " + strings::human_size(s.block_write)},
                     {"pids", std::to_string(s.pids)},
                     {"up_time", go_secs(s.up_ns)},
                     {"pressure", s.pressure},
                     {"sources", s.sources}};
    j["raw"] = {{"cpu_ns", s.cpu_ns},          {"cpu_percent", s.cpu_percent}, {"avg_cpu", s.avg_cpu},
                {"mem_usage", s.mem_usage},    {"mem_limit", s.mem_limit},     {"mem_percent", s.mem_percent},
                {"net_rx", s.net_rx ? nlohmann::json(*s.net_rx) : nlohmann::json()},
                {"net_tx", s.net_tx ? nlohmann::json(*s.net_tx) : nlohmann::json()},
                {"block_read", s.block_read},  {"block_write", s.block_write}, {"pids", s.pids},
                {"up_ns", s.up_ns}};
    return j;
}

nlohmann::json stats_fields(const ContainerStats& s) {
    auto j = stats_json(s);
    return {{"ID", j["id"]},           {"Name", s.name},
            {"CPUPerc", j["cpu_percent"]}, {"MemUsage", j["mem_usage"]},
            {"MemUsageBytes", strings::human_size(s.mem_usage)}, {"MemPerc", j["mem_percent"]},
            {"NetIO", j["net_io"]},    {"BlockIO", j["block_io"]},
            {"PIDs", j["pids"]},       {"CPU", j["cpu_time"]},
            {"AVGCPU", j["avg_cpu"]},  {"UpTime", j["up_time"]},
            {"PSI", psi_text(s)},      {"Pressure", s.pressure},
            {"Sources", s.sources}};
}

std::vector<std::string> stats_notes(const std::vector<ContainerStats>& all) {
    std::set<std::string> proc_fields;
    std::set<std::string> pressure;
    for (const auto& s : all) {
        for (const auto& [k, v] : s.sources)
            if (v == "/proc" && k != "net_io") proc_fields.insert(k == "block_io" ? "block I/O" : k);
        pressure.insert(s.sources.count("pressure") ? s.sources.at("pressure") : "none");
    }
    std::vector<std::string> out;
    if (!proc_fields.empty()) {
        std::string f;
        for (const auto& k : proc_fields) f += (f.empty() ? "" : ", ") + k;
        out.push_back(fmt::format("no cgroup of its own: {} read from /proc of the container's processes (memory is "
                                  "the sum of their RSS, the limit the host's memory); cgroup v2 with delegation "
                                  "gives the cgroup's figures",
                                  f));
    }
    if (pressure.count("host /proc/pressure"))
        out.push_back("pressure (PSI) is the host's (/proc/pressure): per-container pressure needs cgroup v2");
    if (pressure.count("none")) out.push_back("pressure (PSI): this kernel reports none (boot with psi=1)");
    return out;
}

}  // namespace bock::engine
