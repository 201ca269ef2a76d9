// The process `exec` runs: a --process JSON file, or config.json's process
// overlaid by runc exec's flags (as runc's getProcess: args and tty from
// the command line, --cwd replaces, -e adds, -u replaces the user, -c adds
// to the capability sets, --no-new-privs turns it on).
#include <cctype>
#include <charconv>

#include "bock/runtime/exec.hpp"
#include "bock/common/strings.hpp"

namespace bock::runtime {

namespace {

Result<uint32_t> parse_id(std::string_view text, std::string_view flag, std::string_view whole) {
    uint32_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size())
        return make_error("{} `{}`: must be UID or UID:GID (numbers)", flag, whole);
    return v;
}

void add_cap(std::optional<std::vector<std::string>>& set, const std::string& cap) {
    if (!set) set.emplace();
    for (const auto& c : *set)
        if (c == cap) return;
    set->push_back(cap);
}

}  // namespace

Result<Process> overlay_exec_flags(const Process& base, const ExecFlags& f) {
    if (f.args.empty()) return make_error("exec: a command is needed (ID CMD [ARGS...] or --process FILE)");
    Process p = base;
    p.args = f.args;
    p.terminal = f.tty;
    if (!f.cwd.empty()) {
        if (f.cwd[0] != '/') return make_error("--cwd `{}`: must be an absolute path", f.cwd);
        p.cwd = f.cwd;
    }
    for (const auto& kv : f.env) {
        if (kv.empty() || kv[0] == '=') return make_error("--env `{}`: must be KEY=VALUE", kv);
        strings::set_env(p.env, kv);
    }
    if (!f.user.empty()) {
        std::string_view u = f.user;
        auto colon = u.find(':');
        p.user.uid = BOCK_TRY(parse_id(u.substr(0, colon), "--user", f.user));
        // runc: without :GID the group is 0 (not config.json's).
        p.user.gid = colon == std::string_view::npos ? 0 : BOCK_TRY(parse_id(u.substr(colon + 1), "--user", f.user));
    }
    for (uint32_t g : f.additional_gids) p.user.additional_gids.push_back(g);
    for (std::string cap : f.caps) {
        for (auto& ch : cap) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        if (cap.rfind("CAP_", 0) != 0) cap = "CAP_" + cap;
        add_cap(p.cap_bounding, cap);
        add_cap(p.cap_effective, cap);
        add_cap(p.cap_permitted, cap);
        add_cap(p.cap_inheritable, cap);
        add_cap(p.cap_ambient, cap);
    }
    if (f.no_new_privs) p.no_new_privileges = true;
    return p;
}

Result<Process> parse_process_json(std::string_view json_text, std::string_view source) {
    auto j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return make_error("{}: must be a JSON object (a runtime-spec process)", source);
    // The spec parser reads `process` and names fields "process.args", ...
    nlohmann::json doc = {{"process", std::move(j)}};
    auto spec = parse_spec(doc.dump(), source);
    if (!spec) return std::move(spec).error();
    return std::move(spec->process);
}

}  // namespace bock::runtime
