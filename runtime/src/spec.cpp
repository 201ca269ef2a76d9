// config.json: parsing with errors that name the field path
// ("config.json: process.args: must be a non-empty array of strings"),
// serialization that keeps unknown fields, and runc's default spec.
#include "bock/runtime/spec.hpp"

#include <limits>
#include <string>

#include "bock/common/fs.hpp"
#include "bock/common/paths.hpp"
#include "seccomp.hpp"

namespace bock::runtime {

using nlohmann::json;

namespace {

std::string join_path(std::string_view parent, std::string_view key) {
    if (parent.empty()) return std::string(key);
    return std::string(parent) + "." + std::string(key);
}

Error field_error(std::string_view path, std::string_view what) {
    return make_error("{}: {}", path, what);
}

// Each reader leaves `out` untouched when the key is absent.
Result<void> read_string(const json& o, const char* key, std::string_view parent, std::string& out) {
    auto it = o.find(key);
    if (it == o.end() || it->is_null()) return ok();
    if (!it->is_string()) return field_error(join_path(parent, key), "must be a string");
    out = it->get<std::string>();
    return ok();
}

Result<void> read_bool(const json& o, const char* key, std::string_view parent, bool& out) {
    auto it = o.find(key);
    if (it == o.end() || it->is_null()) return ok();
    if (!it->is_boolean()) return field_error(join_path(parent, key), "must be true or false");
    out = it->get<bool>();
    return ok();
}

Result<uint64_t> as_u64(const json& v, std::string_view path, uint64_t max) {
    if (!v.is_number_integer() || (v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() < 0))
        return field_error(path, "must be a non-negative integer");
    uint64_t n = v.get<uint64_t>();
    if (n > max) return field_error(path, fmt::format("must be at most {}", max));
    return n;
}

Result<void> read_u32(const json& o, const char* key, std::string_view parent, uint32_t& out) {
    auto it = o.find(key);
    if (it == o.end() || it->is_null()) return ok();
    out = static_cast<uint32_t>(
        BOCK_TRY(as_u64(*it, join_path(parent, key), std::numeric_limits<uint32_t>::max())));
    return ok();
}

Result<std::vector<std::string>> as_strings(const json& v, std::string_view path) {
    if (!v.is_array()) return field_error(path, "must be an array of strings");
    std::vector<std::string> out;
    for (const auto& e : v) {
        if (!e.is_string()) return field_error(path, "must be an array of strings");
        out.push_back(e.get<std::string>());
    }
    return out;
}

Result<void> read_strings(const json& o, const char* key, std::string_view parent,
                          std::vector<std::string>& out) {
    auto it = o.find(key);
    if (it == o.end() || it->is_null()) return ok();
    out = BOCK_TRY(as_strings(*it, join_path(parent, key)));
    return ok();
}

Result<void> read_string_map(const json& o, const char* key, std::string_view parent,
                             std::map<std::string, std::string>& out) {
    auto it = o.find(key);
    if (it == o.end() || it->is_null()) return ok();
    std::string path = join_path(parent, key);
    if (!it->is_object()) return field_error(path, "must be an object of strings");
    for (const auto& [k, v] : it->items()) {
        if (!v.is_string()) return field_error(join_path(path, k), "must be a string");
        out[k] = v.get<std::string>();
    }
    return ok();
}

// Calls fn(element, "parent.key[i]") for each object of an array field.
template <class Fn>
Result<void> for_each_object(const json& o, const char* key, std::string_view parent, Fn fn) {
    auto it = o.find(key);
    if (it == o.end() || it->is_null()) return ok();
    std::string path = join_path(parent, key);
    if (!it->is_array()) return field_error(path, "must be an array of objects");
    for (size_t i = 0; i < it->size(); ++i) {
        std::string ep = fmt::format("{}[{}]", path, i);
        if (!(*it)[i].is_object()) return field_error(ep, "must be an object");
        BOCK_TRY(fn((*it)[i], ep));
    }
    return ok();
}

Result<const json*> object_field(const json& o, const char* key, std::string_view parent) {
    auto it = o.find(key);
    if (it == o.end() || it->is_null()) return static_cast<const json*>(nullptr);
    if (!it->is_object()) return field_error(join_path(parent, key), "must be an object");
    return &*it;
}

Result<void> parse_user(const json& u, Process& p) {
    BOCK_TRY(read_u32(u, "uid", "process.user", p.user.uid));
    BOCK_TRY(read_u32(u, "gid", "process.user", p.user.gid));
    if (auto it = u.find("additionalGids"); it != u.end() && !it->is_null()) {
        if (!it->is_array()) return field_error("process.user.additionalGids", "must be an array of integers");
        for (const auto& g : *it)
            p.user.additional_gids.push_back(static_cast<uint32_t>(
                BOCK_TRY(as_u64(g, "process.user.additionalGids", std::numeric_limits<uint32_t>::max()))));
    }
    if (auto it = u.find("umask"); it != u.end() && !it->is_null())
        p.user.umask = static_cast<uint32_t>(BOCK_TRY(as_u64(*it, "process.user.umask", 07777)));
    return ok();
}

Result<void> parse_process(const json& j, Process& p) {
    auto it = j.find("args");
    if (it == j.end() || !it->is_array() || it->empty())
        return field_error("process.args", "must be a non-empty array of strings");
    p.args = BOCK_TRY(as_strings(*it, "process.args"));
    BOCK_TRY(read_bool(j, "terminal", "process", p.terminal));
    if (auto u = BOCK_TRY(object_field(j, "user", "process"))) BOCK_TRY(parse_user(*u, p));
    BOCK_TRY(read_strings(j, "env", "process", p.env));
    BOCK_TRY(read_string(j, "cwd", "process", p.cwd));
    if (p.cwd.empty() || p.cwd[0] != '/') return field_error("process.cwd", "must be an absolute path");
    BOCK_TRY(read_bool(j, "noNewPrivileges", "process", p.no_new_privileges));
    if (auto cs = BOCK_TRY(object_field(j, "consoleSize", "process"))) {
        ConsoleSize size;
        BOCK_TRY(read_u32(*cs, "height", "process.consoleSize", size.height));
        BOCK_TRY(read_u32(*cs, "width", "process.consoleSize", size.width));
        p.console_size = size;
    }
    BOCK_TRY(for_each_object(j, "rlimits", "process", [&](const json& r, const std::string& path) -> Result<void> {
        Rlimit rl;
        BOCK_TRY(read_string(r, "type", path, rl.type));
        if (rl.type.empty()) return field_error(path + ".type", "must name a limit (e.g. RLIMIT_NOFILE)");
        auto max = std::numeric_limits<uint64_t>::max();
        if (r.contains("soft")) rl.soft = BOCK_TRY(as_u64(r["soft"], path + ".soft", max));
        if (r.contains("hard")) rl.hard = BOCK_TRY(as_u64(r["hard"], path + ".hard", max));
        p.rlimits.push_back(std::move(rl));
        return ok();
    }));
    if (auto caps = BOCK_TRY(object_field(j, "capabilities", "process"))) {
        struct {
            const char* key;
            std::optional<std::vector<std::string>>* out;
        } sets[] = {{"bounding", &p.cap_bounding},
                    {"effective", &p.cap_effective},
                    {"inheritable", &p.cap_inheritable},
                    {"permitted", &p.cap_permitted},
                    {"ambient", &p.cap_ambient}};
        for (auto& s : sets) {
            auto cit = caps->find(s.key);
            if (cit == caps->end() || cit->is_null()) continue;
            *s.out = BOCK_TRY(as_strings(*cit, join_path("process.capabilities", s.key)));
        }
    }
    return ok();
}

Result<void> parse_id_maps(const json& l, const char* key, std::vector<IdMap>& out) {
    return for_each_object(l, key, "linux", [&](const json& m, const std::string& path) -> Result<void> {
        IdMap im;
        BOCK_TRY(read_u32(m, "containerID", path, im.container_id));
        BOCK_TRY(read_u32(m, "hostID", path, im.host_id));
        BOCK_TRY(read_u32(m, "size", path, im.size));
        if (im.size == 0) return field_error(path + ".size", "must be at least 1");
        out.push_back(im);
        return ok();
    });
}

// linux.seccomp: names are checked here so that a typo is reported with
// its field path; seccomp.cpp turns them into a filter.
Result<void> parse_seccomp(const json& j, Seccomp& sc) {
    const std::string base = "linux.seccomp";
    constexpr uint64_t kMaxErrno = 0xffff;  // SECCOMP_RET_DATA
    BOCK_TRY(read_string(j, "defaultAction", base, sc.default_action));
    if (sc.default_action.empty()) return field_error(base + ".defaultAction", "missing (e.g. SCMP_ACT_ALLOW)");
    if (!seccomp_action_known(sc.default_action))
        return field_error(base + ".defaultAction", fmt::format("unknown action `{}`", sc.default_action));
    if (auto it = j.find("defaultErrnoRet"); it != j.end() && !it->is_null()) {
        sc.default_errno_ret = static_cast<uint32_t>(BOCK_TRY(as_u64(*it, base + ".defaultErrnoRet", kMaxErrno)));
        if (!seccomp_action_takes_errno(sc.default_action))
            return field_error(base + ".defaultErrnoRet", "only allowed with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
    }
    BOCK_TRY(read_strings(j, "architectures", base, sc.architectures));
    for (size_t i = 0; i < sc.architectures.size(); ++i)
        if (!seccomp_arch_known(sc.architectures[i]))
            return field_error(fmt::format("{}.architectures[{}]", base, i),
                               fmt::format("unknown architecture `{}`", sc.architectures[i]));
    BOCK_TRY(read_strings(j, "flags", base, sc.flags));
    for (size_t i = 0; i < sc.flags.size(); ++i)
        if (!seccomp_flag_value(sc.flags[i]))
            return field_error(fmt::format("{}.flags[{}]", base, i),
                               fmt::format("unknown flag `{}` (known: SECCOMP_FILTER_FLAG_TSYNC, "
                                           "SECCOMP_FILTER_FLAG_LOG, SECCOMP_FILTER_FLAG_SPEC_ALLOW)",
                                           sc.flags[i]));
    BOCK_TRY(read_string(j, "listenerPath", base, sc.listener_path));
    BOCK_TRY(read_string(j, "listenerMetadata", base, sc.listener_metadata));
    return for_each_object(j, "syscalls", base, [&](const json& c, const std::string& path) -> Result<void> {
        SeccompSyscall call;
        BOCK_TRY(read_strings(c, "names", path, call.names));
        if (call.names.empty()) return field_error(path + ".names", "must name at least one syscall");
        BOCK_TRY(read_string(c, "action", path, call.action));
        if (call.action.empty()) return field_error(path + ".action", "missing (e.g. SCMP_ACT_ERRNO)");
        if (!seccomp_action_known(call.action))
            return field_error(path + ".action", fmt::format("unknown action `{}`", call.action));
        if (auto it = c.find("errnoRet"); it != c.end() && !it->is_null()) {
            call.errno_ret = static_cast<uint32_t>(BOCK_TRY(as_u64(*it, path + ".errnoRet", kMaxErrno)));
            if (!seccomp_action_takes_errno(call.action))
                return field_error(path + ".errnoRet", "only allowed with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
        }
        BOCK_TRY(for_each_object(c, "args", path, [&](const json& a, const std::string& ap) -> Result<void> {
            SeccompArg arg;
            BOCK_TRY(read_u32(a, "index", ap, arg.index));
            if (arg.index > 5) return field_error(ap + ".index", "must be 0 to 5");
            auto max = std::numeric_limits<uint64_t>::max();
            if (a.contains("value")) arg.value = BOCK_TRY(as_u64(a["value"], ap + ".value", max));
            if (a.contains("valueTwo")) arg.value_two = BOCK_TRY(as_u64(a["valueTwo"], ap + ".valueTwo", max));
            BOCK_TRY(read_string(a, "op", ap, arg.op));
            if (!seccomp_op_known(arg.op))
                return field_error(ap + ".op", fmt::format("unknown operator `{}`", arg.op));
            call.args.push_back(std::move(arg));
            return ok();
        }));
        sc.syscalls.push_back(std::move(call));
        return ok();
    });
}

Result<void> parse_linux(const json& l, Spec& s) {
    static const char* const known_ns[] = {"pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"};
    BOCK_TRY(for_each_object(l, "namespaces", "linux", [&](const json& n, const std::string& path) -> Result<void> {
        Namespace ns;
        BOCK_TRY(read_string(n, "type", path, ns.type));
        BOCK_TRY(read_string(n, "path", path, ns.path));
        bool known = false;
        for (auto* k : known_ns) known = known || ns.type == k;
        if (!known) return field_error(path + ".type", fmt::format("unknown namespace type `{}`", ns.type));
        for (const auto& other : s.namespaces)
            if (other.type == ns.type) return field_error(path + ".type", fmt::format("namespace `{}` listed twice", ns.type));
        s.namespaces.push_back(std::move(ns));
        return ok();
    }));
    BOCK_TRY(parse_id_maps(l, "uidMappings", s.uid_mappings));
    BOCK_TRY(parse_id_maps(l, "gidMappings", s.gid_mappings));
    BOCK_TRY(for_each_object(l, "devices", "linux", [&](const json& d, const std::string& path) -> Result<void> {
        Device dev;
        BOCK_TRY(read_string(d, "path", path, dev.path));
        BOCK_TRY(read_string(d, "type", path, dev.type));
        if (dev.path.empty() || dev.path[0] != '/') return field_error(path + ".path", "must be an absolute path");
        if (dev.type != "c" && dev.type != "b" && dev.type != "u" && dev.type != "p")
            return field_error(path + ".type", "must be one of c, b, u, p");
        auto maxi = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
        if (d.contains("major")) dev.major = static_cast<int64_t>(BOCK_TRY(as_u64(d["major"], path + ".major", maxi)));
        if (d.contains("minor")) dev.minor = static_cast<int64_t>(BOCK_TRY(as_u64(d["minor"], path + ".minor", maxi)));
        auto u32 = std::numeric_limits<uint32_t>::max();
        if (d.contains("fileMode") && !d["fileMode"].is_null())
            dev.file_mode = static_cast<uint32_t>(BOCK_TRY(as_u64(d["fileMode"], path + ".fileMode", 07777)));
        if (d.contains("uid") && !d["uid"].is_null())
            dev.uid = static_cast<uint32_t>(BOCK_TRY(as_u64(d["uid"], path + ".uid", u32)));
        if (d.contains("gid") && !d["gid"].is_null())
            dev.gid = static_cast<uint32_t>(BOCK_TRY(as_u64(d["gid"], path + ".gid", u32)));
        s.devices.push_back(std::move(dev));
        return ok();
    }));
    BOCK_TRY(read_strings(l, "maskedPaths", "linux", s.masked_paths));
    BOCK_TRY(read_strings(l, "readonlyPaths", "linux", s.readonly_paths));
    BOCK_TRY(read_string_map(l, "sysctl", "linux", s.sysctl));
    BOCK_TRY(read_string(l, "rootfsPropagation", "linux", s.rootfs_propagation));
    BOCK_TRY(read_string(l, "cgroupsPath", "linux", s.cgroups_path));
    if (auto r = BOCK_TRY(object_field(l, "resources", "linux"))) s.resources = BOCK_TRY(parse_resources(*r, "linux.resources"));
    if (auto sc = BOCK_TRY(object_field(l, "seccomp", "linux"))) {
        s.seccomp.emplace();
        BOCK_TRY(parse_seccomp(*sc, *s.seccomp));
    }
    return ok();
}

Result<Spec> parse_document(json doc) {
    if (!doc.is_object()) return make_error("must be a JSON object");
    Spec s;
    BOCK_TRY(read_string(doc, "ociVersion", "", s.oci_version));
    auto proc = BOCK_TRY(object_field(doc, "process", ""));
    if (!proc) return field_error("process", "missing (a container needs a process to run)");
    BOCK_TRY(parse_process(*proc, s.process));
    if (auto root = BOCK_TRY(object_field(doc, "root", ""))) {
        BOCK_TRY(read_string(*root, "path", "root", s.root_path));
        BOCK_TRY(read_bool(*root, "readonly", "root", s.root_readonly));
    }
    if (s.root_path.empty()) return field_error("root.path", "must not be empty");
    BOCK_TRY(read_string(doc, "hostname", "", s.hostname));
    BOCK_TRY(read_string(doc, "domainname", "", s.domainname));
    BOCK_TRY(for_each_object(doc, "mounts", "", [&](const json& m, const std::string& path) -> Result<void> {
        Mount mnt;
        BOCK_TRY(read_string(m, "destination", path, mnt.destination));
        if (mnt.destination.empty()) return field_error(path + ".destination", "must be a non-empty path");
        BOCK_TRY(read_string(m, "type", path, mnt.type));
        BOCK_TRY(read_string(m, "source", path, mnt.source));
        BOCK_TRY(read_strings(m, "options", path, mnt.options));
        s.mounts.push_back(std::move(mnt));
        return ok();
    }));
    if (auto l = BOCK_TRY(object_field(doc, "linux", ""))) BOCK_TRY(parse_linux(*l, s));
    BOCK_TRY(read_string_map(doc, "annotations", "", s.annotations));
    s.raw = std::move(doc);
    return s;
}

json caps_json(const std::optional<std::vector<std::string>>& v) { return v ? json(*v) : json(); }

json seccomp_json(const Seccomp& sc) {
    json j = {{"defaultAction", sc.default_action}};
    if (sc.default_errno_ret) j["defaultErrnoRet"] = *sc.default_errno_ret;
    if (!sc.architectures.empty()) j["architectures"] = sc.architectures;
    if (!sc.flags.empty()) j["flags"] = sc.flags;
    if (!sc.listener_path.empty()) j["listenerPath"] = sc.listener_path;
    if (!sc.listener_metadata.empty()) j["listenerMetadata"] = sc.listener_metadata;
    json calls = json::array();
    for (const auto& c : sc.syscalls) {
        json cj = {{"names", c.names}, {"action", c.action}};
        if (c.errno_ret) cj["errnoRet"] = *c.errno_ret;
        if (!c.args.empty()) {
            json args = json::array();
            for (const auto& a : c.args)
                args.push_back({{"index", a.index}, {"value", a.value}, {"valueTwo", a.value_two}, {"op", a.op}});
            cj["args"] = args;
        }
        calls.push_back(cj);
    }
    if (!calls.empty()) j["syscalls"] = calls;
    return j;
}

}  // namespace

bool Spec::has_namespace(std::string_view type) const {
    for (const auto& n : namespaces)
        if (n.type == type) return true;
    return false;
}

Result<Spec> parse_spec(std::string_view json_text, std::string_view source) {
    json doc = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
        // Parse again with exceptions for the position and the reason.
        std::string why = "invalid JSON";
        try {
            json again = json::parse(json_text);
            (void)again;
        } catch (const json::parse_error& e) {
            std::string w = e.what();
            if (auto p = w.find("] "); p != std::string::npos) w = w.substr(p + 2);
            why = "invalid JSON: " + w;
        }
        return make_error("{}: {}", source, why);
    }
    auto r = parse_document(std::move(doc));
    if (!r) return std::move(r).error().wrap(source);
    return r;
}

Result<Spec> load_spec(const std::string& bundle_dir) {
    std::string path = fs::join(bundle_dir, "config.json");
    auto text = BOCK_TRY_CTX(fs::read_file(path), "load the container config");
    return parse_spec(text, path);
}

json to_json(const Spec& s) {
    json j = s.raw.is_object() ? s.raw : json::object();
    j["ociVersion"] = s.oci_version.empty() ? "1.1.0" : s.oci_version;

    const Process& p = s.process;
    json proc = j.value("process", json::object());
    if (!proc.is_object()) proc = json::object();
    proc["terminal"] = p.terminal;
    json user = {{"uid", p.user.uid}, {"gid", p.user.gid}};
    if (!p.user.additional_gids.empty()) user["additionalGids"] = p.user.additional_gids;
    if (p.user.umask) user["umask"] = *p.user.umask;
    proc["user"] = user;
    proc["args"] = p.args;
    proc["env"] = p.env;
    proc["cwd"] = p.cwd;
    if (p.cap_bounding || p.cap_effective || p.cap_inheritable || p.cap_permitted || p.cap_ambient) {
        json caps = json::object();
        if (p.cap_bounding) caps["bounding"] = caps_json(p.cap_bounding);
        if (p.cap_effective) caps["effective"] = caps_json(p.cap_effective);
        if (p.cap_inheritable) caps["inheritable"] = caps_json(p.cap_inheritable);
        if (p.cap_permitted) caps["permitted"] = caps_json(p.cap_permitted);
        if (p.cap_ambient) caps["ambient"] = caps_json(p.cap_ambient);
        proc["capabilities"] = caps;
    } else {
        proc.erase("capabilities");
    }
    json rl = json::array();
    for (const auto& r : p.rlimits) rl.push_back({{"type", r.type}, {"hard", r.hard}, {"soft", r.soft}});
    if (!rl.empty()) proc["rlimits"] = rl; else proc.erase("rlimits");
    proc["noNewPrivileges"] = p.no_new_privileges;
    j["process"] = proc;

    j["root"] = {{"path", s.root_path}, {"readonly", s.root_readonly}};
    if (!s.hostname.empty()) j["hostname"] = s.hostname; else j.erase("hostname");
    if (!s.domainname.empty()) j["domainname"] = s.domainname; else j.erase("domainname");

    json mounts = json::array();
    for (const auto& m : s.mounts) {
        json mj = {{"destination", m.destination}, {"type", m.type}, {"source", m.source}};
        if (!m.options.empty()) mj["options"] = m.options;
        mounts.push_back(mj);
    }
    j["mounts"] = mounts;

    json l = j.value("linux", json::object());
    if (!l.is_object()) l = json::object();
    json ns = json::array();
    for (const auto& n : s.namespaces) {
        json nj = {{"type", n.type}};
        if (!n.path.empty()) nj["path"] = n.path;
        ns.push_back(nj);
    }
    l["namespaces"] = ns;
    auto maps = [](const std::vector<IdMap>& v) {
        json a = json::array();
        for (const auto& m : v) a.push_back({{"containerID", m.container_id}, {"hostID", m.host_id}, {"size", m.size}});
        return a;
    };
    if (!s.uid_mappings.empty()) l["uidMappings"] = maps(s.uid_mappings); else l.erase("uidMappings");
    if (!s.gid_mappings.empty()) l["gidMappings"] = maps(s.gid_mappings); else l.erase("gidMappings");
    json devs = json::array();
    for (const auto& d : s.devices) {
        json dj = {{"path", d.path}, {"type", d.type}, {"major", d.major}, {"minor", d.minor}};
        if (d.file_mode) dj["fileMode"] = *d.file_mode;
        if (d.uid) dj["uid"] = *d.uid;
        if (d.gid) dj["gid"] = *d.gid;
        devs.push_back(dj);
    }
    if (!devs.empty()) l["devices"] = devs; else l.erase("devices");
    if (!s.masked_paths.empty()) l["maskedPaths"] = s.masked_paths; else l.erase("maskedPaths");
    if (!s.readonly_paths.empty()) l["readonlyPaths"] = s.readonly_paths; else l.erase("readonlyPaths");
    if (!s.sysctl.empty()) l["sysctl"] = s.sysctl; else l.erase("sysctl");
    if (!s.rootfs_propagation.empty()) l["rootfsPropagation"] = s.rootfs_propagation;
    else l.erase("rootfsPropagation");
    if (s.seccomp) l["seccomp"] = seccomp_json(*s.seccomp); else l.erase("seccomp");
    j["linux"] = l;
    if (!s.annotations.empty()) j["annotations"] = s.annotations; else j.erase("annotations");
    return j;
}

Spec default_spec(bool rootless) {
    Spec s;
    s.oci_version = "1.1.0";
    s.process.args = {"sh"};
    s.process.env = {std::string("PATH=") + paths::kDefaultPath, "TERM=xterm"};
    s.process.cwd = "/";
    s.process.no_new_privileges = true;
    std::vector<std::string> caps = {"CAP_CHOWN",        "CAP_DAC_OVERRIDE", "CAP_FSETID",
                                     "CAP_FOWNER",       "CAP_MKNOD",        "CAP_NET_RAW",
                                     "CAP_SETGID",       "CAP_SETUID",       "CAP_SETFCAP",
                                     "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
                                     "CAP_KILL",         "CAP_AUDIT_WRITE"};
    s.process.cap_bounding = caps;
    s.process.cap_effective = caps;
    s.process.cap_permitted = caps;
    s.process.rlimits = {{"RLIMIT_NOFILE", 1024, 1024}};
    s.root_path = "rootfs";
    s.root_readonly = false;

    std::vector<std::string> pts = {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"};
    if (!rootless) pts.push_back("gid=5");
    s.mounts = {
        {"/proc", "proc", "proc", {}},
        {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
        {"/dev/pts", "devpts", "devpts", pts},
        {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
        {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
        {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}},
    };
    for (const char* t : {"pid", "network", "ipc", "uts", "mount", "cgroup"}) s.namespaces.push_back({t, ""});
    s.masked_paths = {"/proc/acpi",          "/proc/asound",         "/proc/kcore",
                      "/proc/keys",          "/proc/latency_stats",  "/proc/timer_list",
                      "/proc/timer_stats",   "/proc/sched_debug",    "/sys/firmware",
                      "/proc/scsi",          "/sys/devices/virtual/powercap"};
    s.readonly_paths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
    return s;
}

}  // namespace bock::runtime
