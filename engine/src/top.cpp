// `bock top` (top.hpp): podman's (psgo's) descriptors over /proc.
#include "bock/engine/top.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <functional>
#include <map>

#include "bock/common/fs.hpp"
#include "bock/common/strings.hpp"
#include "bock/common/sys.hpp"
#include "bock/common/time.hpp"
#include "bock/runtime/features.hpp"
#include "container_dirs.hpp"
#include "proc_info.hpp"
#include "user_lookup.hpp"

namespace bock::engine {
namespace {

// What a descriptor needs besides the process: names, the container's
// pids, the id maps.
struct TopContext {
    std::map<uint32_t, std::string> users, groups;
    std::map<pid_t, pid_t> ns_pid;  // host pid -> the container's
    std::vector<std::tuple<uint32_t, uint32_t, uint32_t>> own_uid_map, own_gid_map;  // inside, outside, count
    std::vector<std::tuple<uint32_t, uint32_t, uint32_t>> ctr_uid_map, ctr_gid_map;  // empty: our user namespace
    double uptime = 0;
    int64_t boot = 0;
};

using Column = std::function<std::string(const ProcInfo&, const TopContext&)>;
struct Descriptor {
    const char* name;
    const char* aix;  // "%C", or ""
    const char* header;
    Column value;
};

std::vector<std::tuple<uint32_t, uint32_t, uint32_t>> read_map(const std::string& path) {
    std::vector<std::tuple<uint32_t, uint32_t, uint32_t>> out;
    for (const auto& line : strings::split(fs::read_file(path).value_or(""), '\n')) {
        auto f = strings::split_ws(line);
        if (f.size() == 3)
            out.emplace_back(std::stoul(std::string(f[0])), std::stoul(std::string(f[1])), std::stoul(std::string(f[2])));
    }
    return out;
}

// inside -> outside with `map` (outward), or outside -> inside (inward).
std::optional<uint32_t> through(const std::vector<std::tuple<uint32_t, uint32_t, uint32_t>>& map, uint32_t id,
                                bool outward) {
    for (auto [in, out, n] : map) {
        uint32_t from = outward ? in : out, to = outward ? out : in;
        if (id >= from && id - from < n) return to + (id - from);
    }
    return std::nullopt;
}

// The id as the container sees it (it may have a user namespace of its own).
uint32_t in_container(const std::vector<std::tuple<uint32_t, uint32_t, uint32_t>>& ctr_map, uint32_t id) {
    if (ctr_map.empty()) return id;
    return through(ctr_map, id, false).value_or(65534);
}

std::string named(const std::map<uint32_t, std::string>& names, uint32_t id) {
    auto it = names.find(id);
    return it == names.end() ? std::to_string(id) : it->second;
}

// Go's time.Duration.String(): "1h2m3.5s", "3.25s", "250ms", "0s".
std::string go_duration(int64_t ns) {
    if (ns <= 0) return "0s";
    if (ns < 1000000000) {
        auto trim = [](std::string s) {
            if (s.find('.') != std::string::npos) {
                while (s.back() == '0') s.pop_back();
                if (s.back() == '.') s.pop_back();
            }
            return s;
        };
        if (ns < 1000) return fmt::format("{}ns", ns);
        if (ns < 1000000) return trim(fmt::format("{:.3f}", static_cast<double>(ns) / 1e3)) + "µs";
        return trim(fmt::format("{:.6f}", static_cast<double>(ns) / 1e6)) + "ms";
    }
    std::string out;
    int64_t h = ns / 3600000000000LL, m = ns / 60000000000LL % 60;
    int64_t s = ns / 1000000000 % 60, frac = ns % 1000000000;
    if (h) out += fmt::format("{}h", h);
    if (h || m) out += fmt::format("{}m", m);
    std::string sec = std::to_string(s);
    if (frac) {
        std::string f = fmt::format("{:09d}", frac);
        while (f.back() == '0') f.pop_back();
        sec += "." + f;
    }
    return out + sec + "s";
}

double elapsed_seconds(const ProcInfo& p, const TopContext& t) {
    double e = t.uptime - static_cast<double>(p.start) / static_cast<double>(clock_ticks());
    return e > 0 ? e : 0;
}

std::string tty_name(int tty_nr) {
    unsigned major = (static_cast<unsigned>(tty_nr) >> 8) & 0xfff;
    unsigned minor = (static_cast<unsigned>(tty_nr) & 0xff) | ((static_cast<unsigned>(tty_nr) >> 12) & 0xfff00);
    if (tty_nr == 0) return "?";
    if (major >= 136 && major <= 143) return fmt::format("pts/{}", minor + (major - 136) * 256);
    if (major == 4 && minor < 64) return fmt::format("tty{}", minor);
    if (major == 4) return fmt::format("ttyS{}", minor - 64);
    if (major == 5 && minor == 1) return "console";
    return fmt::format("{}:{}", major, minor);
}

std::string caps_text(uint64_t mask) {
    if (mask == 0) return "none";
    int last = runtime::last_capability();
    uint64_t all = last >= 63 ? ~uint64_t{0} : (uint64_t{1} << (last + 1)) - 1;
    if ((mask & all) == all) return "full";
    std::string s;
    for (const auto& n : runtime::capability_names(mask)) s += (s.empty() ? "" : ",") + n;
    return s;
}

std::string ns_id(const TopContext& t, pid_t host) {
    auto it = t.ns_pid.find(host);
    return std::to_string(it == t.ns_pid.end() ? 0 : it->second);
}

const std::vector<Descriptor>& descriptors() {
    static const std::vector<Descriptor> table = {
        {"args", "%a", "COMMAND",
         [](const ProcInfo& p, const TopContext&) {
             if (p.args.empty()) return "[" + p.comm + "]";
             std::string s;
             for (const auto& a : p.args) s += (s.empty() ? "" : " ") + a;
             return s;
         }},
        {"capamb", "", "AMBIENT CAPS", [](const ProcInfo& p, const TopContext&) { return caps_text(p.cap_amb); }},
        {"capbnd", "", "BOUNDING CAPS", [](const ProcInfo& p, const TopContext&) { return caps_text(p.cap_bnd); }},
        {"capeff", "", "EFFECTIVE CAPS", [](const ProcInfo& p, const TopContext&) { return caps_text(p.cap_eff); }},
        {"capinh", "", "INHERITED CAPS", [](const ProcInfo& p, const TopContext&) { return caps_text(p.cap_inh); }},
        {"capprm", "", "PERMITTED CAPS", [](const ProcInfo& p, const TopContext&) { return caps_text(p.cap_prm); }},
        {"comm", "%c", "COMMAND", [](const ProcInfo& p, const TopContext&) { return p.comm; }},
        {"etime", "%t", "ELAPSED",
         [](const ProcInfo& p, const TopContext& t) {
             return go_duration(static_cast<int64_t>(elapsed_seconds(p, t) * 1e9));
         }},
        {"group", "%G", "GROUP",
         [](const ProcInfo& p, const TopContext& t) { return named(t.groups, in_container(t.ctr_gid_map, p.egid)); }},
        {"hgroup", "", "HGROUP",
         [](const ProcInfo& p, const TopContext& t) {
             return std::to_string(through(t.own_gid_map, p.egid, true).value_or(p.egid));
         }},
        {"hpid", "", "HPID", [](const ProcInfo& p, const TopContext&) { return std::to_string(p.pid); }},
        {"huser", "", "HUSER",
         [](const ProcInfo& p, const TopContext& t) {
             return std::to_string(through(t.own_uid_map, p.euid, true).value_or(p.euid));
         }},
        {"label", "", "LABEL", [](const ProcInfo& p, const TopContext&) { return p.label.empty() ? "-" : p.label; }},
        {"nice", "%n", "NI", [](const ProcInfo& p, const TopContext&) { return std::to_string(p.nice); }},
        {"pcpu", "%C", "%CPU",
         [](const ProcInfo& p, const TopContext& t) {
             double e = elapsed_seconds(p, t);
             double cpu = static_cast<double>(p.utime + p.stime) / static_cast<double>(clock_ticks());
             return fmt::format("{:.3f}", e > 0 ? cpu / e * 100.0 : 0.0);
         }},
        {"pgid", "%r", "PGID", [](const ProcInfo& p, const TopContext& t) { return ns_id(t, p.pgid); }},
        {"pid", "%p", "PID", [](const ProcInfo& p, const TopContext& t) { return ns_id(t, p.pid); }},
        {"ppid", "%P", "PPID", [](const ProcInfo& p, const TopContext& t) { return ns_id(t, p.ppid); }},
        {"rgroup", "%g", "RGROUP",
         [](const ProcInfo& p, const TopContext& t) { return named(t.groups, in_container(t.ctr_gid_map, p.rgid)); }},
        {"rss", "", "RSS", [](const ProcInfo& p, const TopContext&) { return std::to_string(p.rss / 1024); }},
        {"ruser", "%u", "RUSER",
         [](const ProcInfo& p, const TopContext& t) { return named(t.users, in_container(t.ctr_uid_map, p.ruid)); }},
        {"seccomp", "", "SECCOMP",
         [](const ProcInfo& p, const TopContext&) -> std::string {
             return p.seccomp == 2 ? "filter" : p.seccomp == 1 ? "strict" : "disabled";
         }},
        {"state", "", "STATE", [](const ProcInfo& p, const TopContext&) { return std::string(1, p.state); }},
        {"stime", "", "STIME",
         [](const ProcInfo& p, const TopContext& t) {
             return time::rfc3339(t.boot + static_cast<int64_t>(p.start / static_cast<uint64_t>(clock_ticks())));
         }},
        {"time", "%x", "TIME",
         [](const ProcInfo& p, const TopContext&) {
             auto ticks = static_cast<int64_t>(p.utime + p.stime);
             return go_duration(ticks * 1000000000LL / clock_ticks());
         }},
        {"tty", "%y", "TTY", [](const ProcInfo& p, const TopContext&) { return tty_name(p.tty_nr); }},
        {"user", "%U", "USER",
         [](const ProcInfo& p, const TopContext& t) { return named(t.users, in_container(t.ctr_uid_map, p.euid)); }},
        {"vsz", "%z", "VSZ", [](const ProcInfo& p, const TopContext&) { return std::to_string(p.vsize / 1024); }},
    };
    return table;
}

const Descriptor* find_descriptor(std::string_view word) {
    for (const auto& d : descriptors())
        if (word == d.name || (d.aix[0] && word == d.aix)) return &d;
    return nullptr;
}

}  // namespace

std::vector<std::string> top_descriptors() {
    std::vector<std::string> out;
    for (const auto& d : descriptors()) out.push_back(d.name);
    return out;
}

Result<TopTable> top_container(Context& ctx, const std::string& key, const std::vector<std::string>& given) {
    // The descriptors first: a typo is refused before anything is read.
    std::vector<const Descriptor*> cols;
    std::vector<std::string> words;
    for (const auto& g : given)
        for (auto w : strings::split_ws(g))
            for (const auto& part : strings::split(w, ','))
                if (!part.empty()) words.push_back(part);
    if (words.empty()) words = {"user", "pid", "ppid", "pcpu", "etime", "tty", "time", "args"};
    for (const auto& w : words) {
        const Descriptor* d = find_descriptor(w);
        if (!d) {
            std::string known;
            for (const auto& n : top_descriptors()) known += (known.empty() ? "" : ", ") + n;
            return make_error("unknown top descriptor `{}`", w)
                .with_hint(fmt::format("use {} (or AIX %C %G %P %U %a %c %g %n %p %r %t %u %x %y %z); "
                                       "ps(1) options such as -ef are not supported",
                                       known));
        }
        cols.push_back(d);
    }

    auto c = BOCK_TRY(find_container(ctx, key));
    auto procs = BOCK_TRY(container_processes(ctx, c));
    auto dirs = ContainerDirs::for_id(ctx, c.rec.id);
    TopContext t;
    if (auto root = sys::open(dirs.rootfs, O_PATH | O_DIRECTORY)) {
        t.users = id_names(root->get(), "/etc/passwd");
        t.groups = id_names(root->get(), "/etc/group");
    }
    t.own_uid_map = read_map("/proc/self/uid_map");
    t.own_gid_map = read_map("/proc/self/gid_map");
    struct stat ours{}, theirs{};
    if (::stat("/proc/self/ns/user", &ours) == 0 &&
        ::stat(fmt::format("/proc/{}/ns/user", procs.init).c_str(), &theirs) == 0 && ours.st_ino != theirs.st_ino) {
        t.ctr_uid_map = read_map(fmt::format("/proc/{}/uid_map", procs.init));
        t.ctr_gid_map = read_map(fmt::format("/proc/{}/gid_map", procs.init));
    }
    t.uptime = uptime_seconds();
    t.boot = boot_time();
    std::vector<ProcInfo> infos;
    for (pid_t pid : procs.pids)
        if (auto p = read_proc(pid)) {
            // In a pid namespace of its own the container's ids come from
            // NSpid; sharing ours, the host's.
            t.ns_pid[pid] = procs.source == "process tree" ? pid : p->ns_pid;
            infos.push_back(std::move(*p));
        }
    TopTable out;
    for (const auto* d : cols) out.headers.push_back(d->header);
    for (const auto& p : infos) {
        std::vector<std::string> row;
        for (const auto* d : cols) row.push_back(d->value(p, t));
        out.rows.push_back(std::move(row));
    }
    return out;
}

}  // namespace bock::engine
