// --memory, --memory-swap, --cpus, --cpu-shares, --pids-limit,
// --blkio-weight, --device-read-bps/--device-write-bps (docs/limits.md).
//
// They become linux.resources, which the runtime writes into the
// container's cgroup before clone (runtime/src/cgroup*.cpp). A limit is
// only promised where it holds: as root (cgroup v1 or v2), or rootless on
// cgroup v2 with a cgroup delegated by systemd (user@UID.service). Anywhere
// else the run is refused with the reason and the fix, unless the user
// opted out (--ignore-limits, ignore_limits in bock.conf): never dropped
// silently.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmath>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/strings.hpp"
#include "bock/engine/lifecycle.hpp"
#include "bock/runtime/cgroup.hpp"
#include "run_isolation.hpp"

namespace bock::engine {
namespace {

struct Need {
    const char* flag;
    const char* v1_controller;  // a v1 hierarchy holding it
    const char* v1_file;        // a file its root must have ("": any)
    const char* v2_controller;
};
constexpr Need kNeeds[] = {
    {"--memory", "memory", "memory.limit_in_bytes", "memory"},
    {"--memory-swap", "memory", "memory.memsw.limit_in_bytes", "memory"},
    {"--cpus", "cpu", "cpu.cfs_quota_us", "cpu"},
    {"--cpu-shares", "cpu", "cpu.shares", "cpu"},
    {"--pids-limit", "pids", "", "pids"},
    {"--blkio-weight", "blkio", "blkio.weight|blkio.bfq.weight", "io"},
    {"--device-read-bps", "blkio", "blkio.throttle.read_bps_device", "io"},
    {"--device-write-bps", "blkio", "blkio.throttle.write_bps_device", "io"},
};

const runtime::CgroupHierarchy* v1_hierarchy(const runtime::CgroupLayout& l, std::string_view controller) {
    for (const auto& h : l.v1)
        for (const auto& c : h.controllers)
            if (c == controller) return &h;
    return nullptr;
}

// "a|b": the hierarchy's root has one of the files ("": any hierarchy will do).
bool v1_has_any(const std::string& mountpoint, std::string_view files) {
    if (files.empty()) return true;
    for (const auto& f : strings::split(files, '|'))
        if (::access(fs::join(mountpoint, f).c_str(), F_OK) == 0) return true;
    return false;
}

std::string v2_controllers(const std::string& dir) {
    auto text = fs::read_file(fs::join(dir, "cgroup.controllers")).value_or("");
    return " " + text.substr(0, text.find('\n')) + " ";
}

Result<runtime::ThrottleDevice> parse_device_rate(const std::string& text, std::string_view flag) {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0)
        return make_error("{} `{}`: must be DEVICE:RATE", flag, text).with_hint(fmt::format("e.g. {} /dev/sda:1mb", flag));
    std::string dev = text.substr(0, colon);
    struct stat st{};
    if (::stat(dev.c_str(), &st) < 0) return errno_error("{} `{}`: stat `{}`", flag, text, dev);
    if (!S_ISBLK(st.st_mode)) return make_error("{} `{}`: `{}` is not a block device", flag, text, dev);
    runtime::ThrottleDevice t;
    t.major = major(st.st_rdev);
    t.minor = minor(st.st_rdev);
    t.rate = BOCK_TRY_CTX(parse_size(text.substr(colon + 1)), fmt::format("{} `{}`", flag, text));
    return t;
}

}  // namespace

LimitsReport limits_report(const Context& ctx) {
    LimitsReport r;
    auto layout = runtime::detect_cgroups();
    auto none = [&](std::string why, std::string fix) {
        r.why = std::move(why);
        r.fix = std::move(fix);
        for (const auto& n : kNeeds) r.limits.push_back({n.flag, false, r.why});
        return r;
    };
    if (!layout || layout->mode == runtime::CgroupMode::none)
        return none("no cgroup filesystem is mounted", "mount cgroup2 on /sys/fs/cgroup");
    const std::string fix_rootless =
        "run as root; or boot with cgroup v2 (systemd.unified_cgroup_hierarchy=1) and delegate it to users "
        "(systemctl edit user@.service: Delegate=yes); or pass --ignore-limits (ignore_limits = true in bock.conf) "
        "to run without the limits";
    if (layout->mode == runtime::CgroupMode::v1) {
        if (ctx.rootless)
            return none("rootless on cgroup v1: cgroups are not delegated to users", fix_rootless);
        r.any = true;
        r.where = "/bock/ID in each v1 hierarchy";
        for (const auto& n : kNeeds) {
            auto* h = v1_hierarchy(*layout, n.v1_controller);
            if (!h) r.limits.push_back({n.flag, false, fmt::format("no v1 `{}` hierarchy", n.v1_controller)});
            else if (!v1_has_any(h->mountpoint, n.v1_file))
                r.limits.push_back({n.flag, false, fmt::format("the kernel has no {}", strings::split(n.v1_file, '|')[0])});
            else r.limits.push_back({n.flag, true, ""});
        }
        return r;
    }
    std::string dir = layout->unified;
    if (ctx.rootless) {
        // systemd's user instance gets a delegated cgroup of its own.
        std::string rel = fmt::format("/user.slice/user-{0}.slice/user@{0}.service", ctx.host_uid);
        std::string abs = layout->unified + rel;
        if (::access(abs.c_str(), W_OK) != 0 || ::access(fs::join(abs, "cgroup.subtree_control").c_str(), W_OK) != 0)
            return none(fmt::format("rootless on cgroup v2 without delegation ({} is not writable)", abs), fix_rootless);
        r.delegated = rel;
        r.where = rel + "/bock/ID";
        dir = abs;
    } else {
        r.where = "/bock/ID";
    }
    r.any = true;
    std::string have = v2_controllers(dir);
    for (const auto& n : kNeeds) {
        if (have.find(fmt::format(" {} ", n.v2_controller)) == std::string::npos)
            r.limits.push_back({n.flag, false, fmt::format("controller `{}` is not available in {}", n.v2_controller, dir)});
        else r.limits.push_back({n.flag, true, ""});
    }
    return r;
}

Result<LimitsPlan> plan_limits(const Context& ctx, const RunRequest& req) {
    LimitsPlan p;
    runtime::Resources res;
    auto mem = [&]() -> runtime::Resources::Memory& {
        if (!res.memory) res.memory.emplace();
        return *res.memory;
    };
    auto cpu = [&]() -> runtime::Resources::Cpu& {
        if (!res.cpu) res.cpu.emplace();
        return *res.cpu;
    };
    auto blkio = [&]() -> runtime::Resources::BlockIo& {
        if (!res.block_io) res.block_io.emplace();
        return *res.block_io;
    };
    if (!req.memory.empty()) {
        auto v = BOCK_TRY_CTX(parse_size(req.memory), "--memory");
        if (v < 6 * 1024 * 1024)
            return make_error("--memory {}: the minimum is 6m", req.memory).with_hint("give at least --memory 6m");
        mem().limit = static_cast<int64_t>(v);
        p.asked.push_back("--memory");
    }
    if (!req.memory_swap.empty()) {
        if (req.memory.empty())
            return make_error("--memory-swap needs --memory: it is the limit of memory and swap together")
                .with_hint("give --memory too, e.g. --memory 64m --memory-swap 128m");
        if (req.memory_swap == "-1") {
            mem().swap = -1;
        } else {
            auto v = static_cast<int64_t>(BOCK_TRY_CTX(parse_size(req.memory_swap), "--memory-swap"));
            if (v < *mem().limit)
                return make_error("--memory-swap {} is less than --memory {}", req.memory_swap, req.memory)
                    .with_hint("--memory-swap is memory and swap together: give at least --memory's value, or -1");
            mem().swap = v;
        }
        p.asked.push_back("--memory-swap");
    }
    if (!req.cpus.empty()) {
        char* end = nullptr;
        double v = std::strtod(req.cpus.c_str(), &end);
        if (!end || *end || end == req.cpus.c_str() || !(v > 0) || v > 1e6)
            return make_error("--cpus `{}`: must be a positive number of CPUs", req.cpus).with_hint("e.g. --cpus 1.5");
        cpu().period = 100000;
        cpu().quota = static_cast<int64_t>(std::llround(v * 100000));
        p.asked.push_back("--cpus");
    }
    if (req.cpu_shares) {
        if (*req.cpu_shares < 2 || *req.cpu_shares > 262144)
            return make_error("--cpu-shares {}: must be 2 to 262144", *req.cpu_shares);
        cpu().shares = *req.cpu_shares;
        p.asked.push_back("--cpu-shares");
    }
    if (req.pids_limit && *req.pids_limit > 0) {
        res.pids_limit = *req.pids_limit;
        p.asked.push_back("--pids-limit");
    }
    if (req.blkio_weight) {
        if (*req.blkio_weight < 10 || *req.blkio_weight > 1000)
            return make_error("--blkio-weight {}: must be 10 to 1000", *req.blkio_weight);
        blkio().weight = *req.blkio_weight;
        p.asked.push_back("--blkio-weight");
    }
    for (const auto& d : req.device_read_bps) blkio().read_bps.push_back(BOCK_TRY(parse_device_rate(d, "--device-read-bps")));
    if (!req.device_read_bps.empty()) p.asked.push_back("--device-read-bps");
    for (const auto& d : req.device_write_bps)
        blkio().write_bps.push_back(BOCK_TRY(parse_device_rate(d, "--device-write-bps")));
    if (!req.device_write_bps.empty()) p.asked.push_back("--device-write-bps");
    if (p.asked.empty()) return p;

    auto report = limits_report(ctx);
    std::string flags;
    for (const auto& a : p.asked) flags += (flags.empty() ? "" : ", ") + a;
    bool ignore = req.ignore_limits || ctx.config.ignore_limits;
    if (!report.any) {
        if (ignore) {
            log::warn("{}: not enforced ({}); running without them as {} asks", flags, report.why,
                      req.ignore_limits ? "--ignore-limits" : "ignore_limits in bock.conf");
            p.asked.clear();
            return p;
        }
        return make_error("{}: resource limits cannot be enforced here: {}", flags, report.why).with_hint(report.fix);
    }
    // Limits the host holds in general but not this one (a controller or a
    // kernel file missing) are refused the same way.
    std::string missing;
    for (const auto& a : p.asked)
        for (const auto& l : report.limits)
            if (l.flag == a && !l.holds) missing += fmt::format("{}{} ({})", missing.empty() ? "" : ", ", a, l.why);
    if (!missing.empty()) {
        if (!ignore)
            return make_error("{}: cannot be enforced here", missing)
                .with_hint("drop the flag, or pass --ignore-limits to run without what cannot hold");
        log::warn("{}: not enforced; running without them as asked", missing);
    }
    // As Docker and podman: without --memory-swap, swap may be as large as
    // the memory limit (memory and swap together twice the limit), where
    // the kernel accounts swap.
    if (res.memory && res.memory->limit && !res.memory->swap)
        for (const auto& l : report.limits)
            if (l.flag == "--memory-swap" && l.holds) res.memory->swap = *res.memory->limit * 2;
    p.resources = res;
    p.delegated = report.delegated;
    return p;
}

void apply_limits(const LimitsPlan& plan, const std::string& id, runtime::Spec& spec) {
    if (!plan.resources) return;
    spec.resources = plan.resources;
    if (!plan.delegated.empty()) spec.cgroups_path = fmt::format("{}/bock/{}", plan.delegated, id);
}

}  // namespace bock::engine
