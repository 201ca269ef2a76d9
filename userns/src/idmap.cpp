#include "bock/userns/idmap.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <limits>

#include <fmt/ranges.h>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/subprocess.hpp"
#include "bock/userns/checks.hpp"
#include "bock/userns/subid.hpp"
#include "idmap_internal.hpp"

namespace bock::userns {
namespace {

// The kernel accepts at most 340 lines in uid_map / gid_map (Linux >= 4.15).
constexpr size_t kMaxMapLines = 340;
constexpr uint64_t kMaxContainerIds = std::numeric_limits<uint32_t>::max();  // (uid_t)-1 is invalid

std::vector<IdMapping> range_mappings(uint32_t own_id, const std::vector<IdRange>& ranges) {
    std::vector<IdMapping> out{{0, own_id, 1}};
    uint64_t next = 1;
    for (const auto& r : ranges) {
        if (out.size() >= kMaxMapLines || next >= kMaxContainerIds) {
            log::debug("subordinate ranges beyond {} container ids or {} map lines ignored", next, out.size());
            break;
        }
        uint64_t size = std::min<uint64_t>(r.count, kMaxContainerIds - next);
        out.push_back({static_cast<uint32_t>(next), r.start, static_cast<uint32_t>(size)});
        next += size;
    }
    return out;
}

std::string display_name(const UserIdentity& who) {
    return who.name.empty() ? fmt::format("uid {}", who.uid) : "user " + who.name;
}

std::string trim_output(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
    for (auto& c : s)
        if (c == '\n') c = ' ';
    return s;
}

// newuidmap PID 0 UID 1 1 START COUNT ...
Result<void> run_idmap_program(const char* program, pid_t pid, const std::vector<IdMapping>& m) {
    auto path = find_program(program);
    if (!path) {
        return Error(ENOENT, fmt::format("{} not found in PATH", program))
            .with_hint("install the uidmap package: apt-get install uidmap");
    }
    SpawnOptions opts;
    opts.argv = {*path, std::to_string(pid)};
    for (const auto& e : m) {
        opts.argv.push_back(std::to_string(e.container_id));
        opts.argv.push_back(std::to_string(e.host_id));
        opts.argv.push_back(std::to_string(e.size));
    }
    opts.capture_stderr = true;
    opts.capture_stdout = true;
    auto res = BOCK_TRY_CTX(run_program(opts), fmt::format("run `{}`", *path));
    if (res.exit_code == 0) return ok();

    std::string output = trim_output(res.err.empty() ? res.out : res.err);
    Error e = make_error("`{}` failed with exit status {}{}{}", fmt::join(opts.argv, " "), res.exit_code,
                         output.empty() ? "" : ": ", output);
    auto check = check_idmap_program(program);
    if (!check.ok) return std::move(e).with_hint(check.fix);
    bool uid = std::string_view(program) == "newuidmap";
    return std::move(e).with_hint(fmt::format("check that {} grants these ranges to this user (`grep $(id -un) {}`)",
                                              uid ? "/etc/subuid" : "/etc/subgid",
                                              uid ? "/etc/subuid" : "/etc/subgid"));
}

bool overlaps(const IdRange& a, const IdRange& b) {
    uint64_t a_end = uint64_t{a.start} + a.count, b_end = uint64_t{b.start} + b.count;
    return a.start < b_end && b.start < a_end;
}

}  // namespace

Result<UserIdentity> current_user() {
    UserIdentity who;
    who.uid = ::getuid();
    who.gid = ::getgid();
    long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buf(hint > 0 ? static_cast<size_t>(hint) : 1024);
    for (;;) {
        passwd pw{};
        passwd* found = nullptr;
        int r = ::getpwuid_r(who.uid, &pw, buf.data(), buf.size(), &found);
        if (r == ERANGE && buf.size() < (1u << 20)) {
            buf.resize(buf.size() * 2);
            continue;
        }
        if (r == 0 && found) who.name = pw.pw_name;
        // glibc reports "no such user" as 0/nullptr but some NSS modules use
        // ENOENT/ESRCH/EPERM: an unnamed user is still a user.
        if (r == EIO || r == ENOMEM || r == EMFILE || r == ENFILE)
            return Error(r, fmt::format("look up uid {} in the passwd database", who.uid));
        return who;
    }
}

Result<IdMappings> plan_rootless_mappings(const UserIdentity& who, const std::string& subuid_path,
                                          const std::string& subgid_path) {
    auto uid_ranges = BOCK_TRY_CTX(read_subids(subuid_path, who.name, who.uid), "read subordinate uids");
    auto gid_ranges = BOCK_TRY_CTX(read_subids(subgid_path, who.name, who.uid), "read subordinate gids");

    IdMappings m;
    if (!uid_ranges.empty() && !gid_ranges.empty()) {
        m.uids = range_mappings(who.uid, uid_ranges);
        m.gids = range_mappings(who.gid, gid_ranges);
        return m;
    }
    if (!uid_ranges.empty() || !gid_ranges.empty()) {
        log::warn("{} has a subordinate range in {} but none in {}: using a single-ID mapping",
                  display_name(who), uid_ranges.empty() ? subgid_path : subuid_path,
                  uid_ranges.empty() ? subuid_path : subgid_path);
    }
    m.uids = {{0, who.uid, 1}};
    m.gids = {{0, who.gid, 1}};
    m.single = true;
    return m;
}

std::string format_map(const std::vector<IdMapping>& m) {
    std::string out;
    for (const auto& e : m) out += fmt::format("{} {} {}\n", e.container_id, e.host_id, e.size);
    return out;
}

Result<std::vector<IdMapping>> parse_map(std::string_view text) {
    std::vector<IdMapping> out;
    size_t line_no = 0;
    while (!text.empty()) {
        ++line_no;
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);

        uint64_t v[3];
        size_t n = 0;
        size_t i = 0;
        bool bad = false;
        while (i < line.size()) {
            if (line[i] == ' ' || line[i] == '\t') {
                ++i;
                continue;
            }
            if (line[i] < '0' || line[i] > '9' || n == 3) {
                bad = true;
                break;
            }
            uint64_t x = 0;
            while (i < line.size() && line[i] >= '0' && line[i] <= '9') {
                x = x * 10 + static_cast<uint64_t>(line[i++] - '0');
                if (x > std::numeric_limits<uint32_t>::max()) bad = true;
            }
            v[n++] = x;
        }
        if (n == 0 && !bad) continue;  // blank line
        if (bad || n != 3)
            return Error(EINVAL, fmt::format("parse id map line {} `{}`: expected three numbers", line_no, line));
        out.push_back({static_cast<uint32_t>(v[0]), static_cast<uint32_t>(v[1]), static_cast<uint32_t>(v[2])});
    }
    return out;
}

Result<void> write_mappings(pid_t pid, const IdMappings& m) {
    if (m.single) {
        std::string proc = fmt::format("/proc/{}", pid);
        // Without "deny", an unprivileged writer may not write gid_map.
        BOCK_TRY_CTX(fs::write_file(proc + "/setgroups", "deny"), "write the single-ID mapping");
        BOCK_TRY_CTX(fs::write_file(proc + "/uid_map", format_map(m.uids)), "write the single-ID mapping");
        BOCK_TRY_CTX(fs::write_file(proc + "/gid_map", format_map(m.gids)), "write the single-ID mapping");
        return ok();
    }
    BOCK_TRY_CTX(run_idmap_program("newuidmap", pid, m.uids), "write the uid mapping");
    BOCK_TRY_CTX(run_idmap_program("newgidmap", pid, m.gids), "write the gid mapping");
    return ok();
}

IdRange free_subid_range(const std::vector<SubidEntry>& taken) {
    constexpr uint64_t kBlock = 65536;
    for (uint64_t start = 100000; start + kBlock <= (uint64_t{1} << 32); start += kBlock) {
        IdRange cand{static_cast<uint32_t>(start), static_cast<uint32_t>(kBlock)};
        bool busy = false;
        for (const auto& e : taken) busy = busy || overlaps(cand, e.range);
        if (!busy) return cand;
    }
    return {100000, 65536};
}

std::string usermod_command(const UserIdentity& who, const std::string& subuid_path,
                            const std::string& subgid_path) {
    std::vector<SubidEntry> taken;
    for (const auto* path : {&subuid_path, &subgid_path}) {
        // A malformed file only makes the suggestion less clever.
        if (auto e = read_subid_entries(*path)) taken.insert(taken.end(), e->begin(), e->end());
    }
    IdRange r = free_subid_range(taken);
    std::string range = fmt::format("{}-{}", r.start, uint64_t{r.start} + r.count - 1);
    return fmt::format("usermod --add-subuids {} --add-subgids {} {}", range, range,
                       who.name.empty() ? std::string("LOGIN") : who.name);
}

std::string no_range_hint(const UserIdentity& who) {
    return fmt::format("to give {} a subordinate ID range in /etc/subuid and /etc/subgid, root can run: {}",
                       display_name(who), usermod_command(who));
}

}  // namespace bock::userns
