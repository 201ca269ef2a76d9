#include "session_state.hpp"

#include <unistd.h>

#include <vector>

#include <fmt/format.h>

#include "bock/common/fs.hpp"
#include "bock/common/strings.hpp"

namespace bock::userns {
namespace {

using strings::split_ws;

std::optional<uint64_t> parse_u64(std::string_view s) {
    if (s.empty() || s.size() > 19) return std::nullopt;
    uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    return v;
}

std::optional<uid_t> read_real_uid(pid_t pid) {
    auto text = fs::read_file(fmt::format("/proc/{}/status", pid));
    if (!text) return std::nullopt;
    auto pos = text->find("\nUid:");
    if (pos == std::string::npos) return std::nullopt;
    auto fields = split_ws(std::string_view(*text).substr(pos + 5, 64));
    if (fields.empty()) return std::nullopt;
    auto uid = parse_u64(fields[0]);
    if (!uid) return std::nullopt;
    return static_cast<uid_t>(*uid);
}

}  // namespace

std::string format_holder_state(const HolderState& s) {
    return fmt::format("{} {} {}\n", s.pid, s.start_time, s.single ? "single" : "range");
}

std::optional<HolderState> parse_holder_state(std::string_view text) {
    auto f = split_ws(text);
    if (f.size() != 3 || (f[2] != "single" && f[2] != "range")) return std::nullopt;
    auto pid = parse_u64(f[0]);
    auto start = parse_u64(f[1]);
    if (!pid || !start || *pid == 0 || *pid > 0x3fffffff) return std::nullopt;
    return HolderState{static_cast<pid_t>(*pid), *start, f[2] == "single"};
}

std::optional<ProcStat> parse_proc_stat(std::string_view text) {
    auto close = text.rfind(')');
    if (close == std::string_view::npos) return std::nullopt;
    // Fields after "pid (comm)": state is field 3, starttime field 22.
    auto f = split_ws(text.substr(close + 1));
    if (f.size() < 20 || f[0].size() != 1) return std::nullopt;
    auto start = parse_u64(f[19]);
    if (!start) return std::nullopt;
    return ProcStat{f[0][0], *start};
}

std::optional<ProcStat> read_proc_stat(pid_t pid) {
    auto text = fs::read_file(fmt::format("/proc/{}/stat", pid));
    if (!text) return std::nullopt;
    return parse_proc_stat(*text);
}

bool holder_alive(const HolderState& s) {
    if (s.pid <= 0) return false;
    auto st = read_proc_stat(s.pid);
    if (!st || st->state == 'Z' || st->state == 'X' || st->start_time != s.start_time) return false;
    // /proc shows ids as seen from our user namespace: the holder's uid is
    // ours both outside the session and (as 0) inside it.
    auto uid = read_real_uid(s.pid);
    return uid && *uid == ::getuid();
}

}  // namespace bock::userns
