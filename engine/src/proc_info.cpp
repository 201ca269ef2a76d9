// /proc readers for top and stats (proc_info.hpp).
#include "proc_info.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <set>

#include "bock/common/fs.hpp"
#include "bock/common/strings.hpp"
#include "bock/runtime/cgroup.hpp"
#include "container_cgroup.hpp"
#include "container_dirs.hpp"
#include "running.hpp"

namespace bock::engine {
namespace {

// "Name:\tvalue" lines of /proc/PID/status.
std::string status_field(const std::string& text, std::string_view key) {
    size_t at = 0;
    while ((at = text.find(key, at)) != std::string::npos) {
        if ((at == 0 || text[at - 1] == '\n') && text.compare(at + key.size(), 1, ":") == 0) {
            size_t start = text.find_first_not_of(" \t", at + key.size() + 1);
            size_t end = text.find('\n', at);
            if (start == std::string::npos || start > end) return "";
            return text.substr(start, end - start);
        }
        at += key.size();
    }
    return "";
}

std::vector<std::string> fields(const std::string& value) {
    std::vector<std::string> out;
    for (auto f : strings::split_ws(value)) out.emplace_back(f);
    return out;
}

uint32_t nth_u32(const std::string& value, size_t n) {
    auto f = fields(value);
    return n < f.size() ? static_cast<uint32_t>(std::strtoul(f[n].c_str(), nullptr, 10)) : 0;
}

// The last entry of "NSpid: 4711 1": the id in the innermost namespace.
pid_t innermost(const std::string& value) {
    auto f = fields(value);
    return f.empty() ? 0 : static_cast<pid_t>(std::atoi(f.back().c_str()));
}

ino_t ns_inode(pid_t pid, const char* ns) {
    struct stat st{};
    std::string p = pid > 0 ? fmt::format("/proc/{}/ns/{}", pid, ns) : fmt::format("/proc/self/ns/{}", ns);
    return ::stat(p.c_str(), &st) == 0 ? st.st_ino : 0;
}

std::vector<pid_t> all_pids() {
    std::vector<pid_t> out;
    for (const auto& n : fs::list_dir("/proc").value_or(std::vector<std::string>{}))
        if (!n.empty() && n.find_first_not_of("0123456789") == std::string::npos) out.push_back(std::atoi(n.c_str()));
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

std::string own_unified_group(pid_t pid, pid_t parent) {
    auto group = [](pid_t p) {
        auto text = fs::read_file(fmt::format("/proc/{}/cgroup", p)).value_or("");
        for (const auto& line : strings::split(text, '\n'))
            if (line.starts_with("0::")) return line.substr(3);
        return std::string();
    };
    std::string mine = group(pid);
    return !mine.empty() && mine != group(parent) ? mine : "";
}

long clock_ticks() {
    static const long hz = [] {
        long v = ::sysconf(_SC_CLK_TCK);
        return v > 0 ? v : 100;
    }();
    return hz;
}

double uptime_seconds() {
    auto text = fs::read_file("/proc/uptime");
    return text ? std::strtod(text->c_str(), nullptr) : 0.0;
}

int64_t boot_time() {
    auto text = fs::read_file("/proc/stat").value_or("");
    auto at = text.find("\nbtime ");
    return at == std::string::npos ? 0 : std::strtoll(text.c_str() + at + 7, nullptr, 10);
}

std::optional<ProcInfo> read_proc(pid_t pid) {
    auto stat = fs::read_file(fmt::format("/proc/{}/stat", pid));
    if (!stat) return std::nullopt;
    ProcInfo p;
    p.pid = pid;
    size_t open = stat->find('('), close = stat->rfind(')');
    if (open == std::string::npos || close == std::string::npos || close + 2 >= stat->size()) return std::nullopt;
    p.comm = stat->substr(open + 1, close - open - 1);
    // Fields from 3 (state) on.
    auto f = fields(stat->substr(close + 2));
    if (f.size() < 22) return std::nullopt;
    auto u = [&](size_t field) { return std::strtoull(f[field - 3].c_str(), nullptr, 10); };
    p.state = f[0].empty() ? '?' : f[0][0];
    p.ppid = static_cast<pid_t>(u(4));
    p.pgid = static_cast<pid_t>(u(5));
    p.tty_nr = static_cast<int>(u(7));
    p.utime = u(14);
    p.stime = u(15);
    p.cutime = u(16);
    p.cstime = u(17);
    p.nice = std::strtoll(f[19 - 3].c_str(), nullptr, 10);
    p.start = u(22);
    p.vsize = u(23);
    p.rss = u(24) * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    if (auto cmd = fs::read_file(fmt::format("/proc/{}/cmdline", pid))) {
        std::string a;
        for (char ch : *cmd) {
            if (ch == '\0') {
                p.args.push_back(a);
                a.clear();
            } else {
                a += ch;
            }
        }
        if (!a.empty()) p.args.push_back(a);
    }
    auto status = fs::read_file(fmt::format("/proc/{}/status", pid)).value_or("");
    p.ruid = nth_u32(status_field(status, "Uid"), 0);
    p.euid = nth_u32(status_field(status, "Uid"), 1);
    p.rgid = nth_u32(status_field(status, "Gid"), 0);
    p.egid = nth_u32(status_field(status, "Gid"), 1);
    p.ns_pid = innermost(status_field(status, "NSpid"));
    p.ns_pgid = innermost(status_field(status, "NSpgid"));
    auto hex = [&](const char* k) { return std::strtoull(status_field(status, k).c_str(), nullptr, 16); };
    p.cap_inh = hex("CapInh");
    p.cap_prm = hex("CapPrm");
    p.cap_eff = hex("CapEff");
    p.cap_bnd = hex("CapBnd");
    p.cap_amb = hex("CapAmb");
    p.seccomp = std::atoi(status_field(status, "Seccomp").c_str());
    if (auto l = fs::read_file(fmt::format("/proc/{}/attr/current", pid))) {
        p.label = *l;
        while (!p.label.empty() && (p.label.back() == '\n' || p.label.back() == '\0')) p.label.pop_back();
        if (p.label == "unconfined") p.label.clear();
    }
    return p;
}

Result<ContainerProcs> container_processes(const Context& ctx, const ContainerInfo& c) {
    auto st = BOCK_TRY(running_state(ctx, c));
    ContainerProcs out;
    out.init = st.pid;
    if (auto cg = container_cgroup(ctx, c.rec))
        if (auto pids = runtime::cgroup_pids(*cg); pids && !pids->empty()) {
            out.pids = *pids;
            std::sort(out.pids.begin(), out.pids.end());
            out.source = "cgroup";
            return out;
        }
    std::set<pid_t> members{out.init};
    ino_t ns = ns_inode(out.init, "pid");
    if (ns != 0 && ns != ns_inode(0, "pid")) {
        for (pid_t p : all_pids())
            if (ns_inode(p, "pid") == ns) members.insert(p);
        out.source = "pid namespace";
    } else {
        // A shared pid namespace: PID 1 and its descendants.
        std::vector<std::pair<pid_t, pid_t>> parent_of;
        for (pid_t p : all_pids())
            if (auto info = read_proc(p)) parent_of.emplace_back(p, info->ppid);
        for (bool grew = true; grew;) {
            grew = false;
            for (auto [p, pp] : parent_of)
                if (members.count(pp) && members.insert(p).second) grew = true;
        }
        out.source = "process tree";
    }
    out.pids.assign(members.begin(), members.end());
    return out;
}

}  // namespace bock::engine
