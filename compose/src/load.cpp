// Loading a Compose project (docs/compose.md): which files, merged how,
// interpolated from which variables, and the typed model they make.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include <fmt/ranges.h>

#include <yaml-cpp/yaml.h>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/strings.hpp"
#include "bock/compose/model.hpp"
#include "bock/engine/health.hpp"
#include "yaml_util.hpp"

namespace bock::compose {

namespace {

const char* const kDefaultNames[] = {"compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"};
const char* const kOverrideNames[] = {"compose.override.yaml", "compose.override.yml", "docker-compose.override.yaml",
                                      "docker-compose.override.yml"};

// Service keys bockrose implements.
const std::set<std::string> kServiceKeys = {
    "image", "build", "command", "entrypoint", "environment", "env_file", "ports", "expose", "volumes", "networks",
    "network_mode", "depends_on", "healthcheck", "restart", "user", "working_dir", "hostname", "labels", "cap_add",
    "cap_drop", "read_only", "init", "tty", "stdin_open", "privileged", "stop_signal", "stop_grace_period", "tmpfs",
    "dns", "extra_hosts", "deploy", "container_name", "profiles", "dns_search", "dns_opt", "sysctls", "ulimits",
    "devices", "group_add", "security_opt", "shm_size", "pid", "ipc", "logging", "secrets", "configs", "volumes_from",
    "extends"};
// Keys of the specification bockrose reads past with a warning.
const std::set<std::string> kIgnoredServiceKeys = {
    "platform", "pull_policy",
    "domainname", "mac_address", "mem_limit", "cpus", "cpu_shares", "links", "external_links", "scale", "runtime",
    "cgroup_parent", "oom_score_adj", "userns_mode", "annotations", "attach", "develop", "blkio_config", "isolation",
    "stop_timeout", "storage_opt", "uts", "volume_driver", "healthcheck_start_interval"};
const std::set<std::string> kTopKeys = {"version", "name", "services", "volumes", "networks", "secrets", "configs",
                                        "include"};
const std::set<std::string> kIgnoredTopKeys = {};

std::string abs_path(const std::string& base, const std::string& p) {
    if (p.starts_with("/")) return p;
    if (p == "~" || p.starts_with("~/")) {
        const char* home = std::getenv("HOME");
        return std::string(home ? home : "/") + p.substr(1);
    }
    std::string j = fs::join(base, p);
    // ./x and x/.. spelled plainly, as the config shows them.
    std::vector<std::string> parts;
    for (size_t i = 0; i <= j.size();) {
        size_t s = std::min(j.find('/', i), j.size());
        std::string part = j.substr(i, s - i);
        i = s + 1;
        if (part.empty() || part == ".") continue;
        if (part == "..") {
            if (!parts.empty()) parts.pop_back();
            continue;
        }
        parts.push_back(part);
    }
    std::string out;
    for (const auto& p2 : parts) out += "/" + p2;
    return out.empty() ? "/" : out;
}

std::string cwd() {
    char buf[4096];
    return ::getcwd(buf, sizeof buf) ? buf : ".";
}

std::string dirname(const std::string& p) {
    auto s = p.rfind('/');
    return s == 0 ? "/" : s == std::string::npos ? "." : p.substr(0, s);
}

// Warnings for keys the model does not know, with file:line.
void check_keys(const YAML::Node& root, const std::string& file) {
    auto where = [&](const YAML::Node& n) { return fmt::format("{}:{}", file, n.Mark().line + 1); };
    if (!root.IsMap()) return;
    for (const auto& kv : root) {
        auto key = kv.first.as<std::string>("");
        if (key.starts_with("x-") || kTopKeys.contains(key)) continue;
        if (kIgnoredTopKeys.contains(key))
            log::warn("{}: top-level `{}` is not supported by bockrose yet: ignored", where(kv.first), key);
        else
            log::warn("{}: unknown top-level key `{}`: ignored", where(kv.first), key);
    }
    auto services = root["services"];
    if (!services.IsMap()) return;
    for (const auto& s : services) {
        if (!s.second.IsMap()) continue;
        for (const auto& kv : s.second) {
            auto key = kv.first.as<std::string>("");
            if (key == "<<" || key.starts_with("x-") || kServiceKeys.contains(key)) continue;
            if (kIgnoredServiceKeys.contains(key))
                log::warn("{}: service `{}`: `{}` is not supported by bockrose yet: ignored", where(kv.first),
                          s.first.as<std::string>(""), key);
            else
                log::warn("{}: service `{}`: unknown key `{}`: ignored", where(kv.first), s.first.as<std::string>(""), key);
        }
    }
}

// Merge keys (`<<: *anchor`, `<<: [*a, *b]`) resolved and every scalar
// interpolated, into a new tree (aliases are shared nodes: interpolating
// in place would interpolate a shared `$$` twice).
Result<YAML::Node> resolve(const YAML::Node& in, const Lookup& lookup, const std::string& file) {
    switch (in.Type()) {
    case YAML::NodeType::Scalar: {
        auto r = interpolate(in.Scalar(), lookup);
        if (!r) return std::move(r.error().wrap(fmt::format("{}:{}", file, in.Mark().line + 1)));
        YAML::Node out(*r);
        if (in.Tag() == "!") out.SetTag("!");  // quoted: stays a string
        return out;
    }
    case YAML::NodeType::Sequence: {
        YAML::Node out(YAML::NodeType::Sequence);
        for (const auto& e : in) out.push_back(BOCK_TRY(resolve(e, lookup, file)));
        return out;
    }
    case YAML::NodeType::Map: {
        YAML::Node out(YAML::NodeType::Map);
        std::vector<std::pair<std::string, YAML::Node>> merged;
        for (const auto& kv : in) {
            if (kv.first.Scalar() != "<<") continue;
            std::vector<YAML::Node> sources;
            if (kv.second.IsSequence())
                for (const auto& e : kv.second) sources.push_back(e);
            else
                sources.push_back(kv.second);
            for (const auto& src : sources) {
                if (!src.IsMap())
                    return make_error("{}:{}: `<<` needs a mapping (or a list of them)", file, kv.first.Mark().line + 1);
                auto r = BOCK_TRY(resolve(src, lookup, file));
                for (const auto& m : r) {
                    auto k = m.first.Scalar();
                    if (!out[k]) out[k] = m.second;  // the first source wins
                }
            }
        }
        for (const auto& kv : in) {
            if (kv.first.Scalar() == "<<") continue;
            out[kv.first.Scalar()] = BOCK_TRY(resolve(kv.second, lookup, file));
        }
        return out;
    }
    default:
        return YAML::Node(YAML::NodeType::Null);
    }
}

// KEY=VALUE lists as mappings (environment, labels, build args).
YAML::Node list_to_map(const YAML::Node& n) {
    if (!n.IsSequence()) return n;
    YAML::Node out(YAML::NodeType::Map);
    for (const auto& e : n) {
        auto s = e.as<std::string>("");
        auto eq = s.find('=');
        if (eq == std::string::npos) out[s] = YAML::Node(YAML::NodeType::Null);
        else out[s.substr(0, eq)] = s.substr(eq + 1);
    }
    return out;
}

// depends_on and networks given as lists: mappings.
YAML::Node names_to_map(const YAML::Node& n, bool depends) {
    if (!n.IsSequence()) return n;
    YAML::Node out(YAML::NodeType::Map);
    for (const auto& e : n) {
        if (depends) {
            YAML::Node c(YAML::NodeType::Map);
            c["condition"] = "service_started";
            out[e.as<std::string>("")] = c;
        } else {
            out[e.as<std::string>("")] = YAML::Node(YAML::NodeType::Null);
        }
    }
    return out;
}

void normalise_lists(YAML::Node& root) {
    auto services = root["services"];
    if (!services.IsMap()) return;
    for (auto s : services) {
        auto svc = s.second;
        if (!svc.IsMap()) continue;
        for (const char* k : {"environment", "labels"})
            if (svc[k]) svc[k] = list_to_map(svc[k]);
        if (svc["depends_on"]) svc["depends_on"] = names_to_map(svc["depends_on"], true);
        if (svc["networks"]) svc["networks"] = names_to_map(svc["networks"], false);
        if (svc["build"] && svc["build"].IsMap() && svc["build"]["args"])
            svc["build"]["args"] = list_to_map(svc["build"]["args"]);
    }
}

// The target of a volume entry (short or long syntax), for merging by target.
std::string volume_target(const YAML::Node& v) {
    if (v.IsMap()) return v["target"].as<std::string>("");
    auto parts = strings::split(v.as<std::string>(""), ':');
    return parts.size() >= 2 ? parts[1] : parts.empty() ? "" : parts[0];
}

// Compose's merge of an override file into the base: mappings merged key
// by key, these lists appended (duplicates dropped), volumes by target,
// anything else replaced.
YAML::Node merge(const YAML::Node& base, const YAML::Node& over, const std::string& key) {
    static const std::set<std::string> kAppend = {"ports", "expose", "dns", "dns_search", "tmpfs", "cap_add",
                                                  "cap_drop", "extra_hosts", "env_file"};
    if (base.IsMap() && over.IsMap() && key != "command" && key != "entrypoint") {
        YAML::Node out(YAML::NodeType::Map);
        for (const auto& kv : base) out[kv.first.Scalar()] = kv.second;
        for (const auto& kv : over) {
            auto k = kv.first.Scalar();
            out[k] = out[k] ? merge(out[k], kv.second, k) : kv.second;
        }
        return out;
    }
    if (base.IsSequence() && over.IsSequence() && kAppend.contains(key)) {
        YAML::Node out(YAML::NodeType::Sequence);
        std::set<std::string> seen;
        for (const auto* list : {&base, &over})
            for (const auto& e : *list) {
                auto text = YAML::Dump(e);
                if (seen.insert(text).second) out.push_back(e);
            }
        return out;
    }
    if (base.IsSequence() && over.IsSequence() && key == "volumes") {
        YAML::Node out(YAML::NodeType::Sequence);
        std::set<std::string> over_targets;
        for (const auto& e : over) over_targets.insert(volume_target(e));
        for (const auto& e : base)
            if (!over_targets.contains(volume_target(e))) out.push_back(e);
        for (const auto& e : over) out.push_back(e);
        return out;
    }
    return over;
}

// A file read, checked, interpolated and normalised.
Result<YAML::Node> read_file(const std::string& f, const Lookup& lookup) {
    YAML::Node raw;
    try {
        raw = YAML::LoadFile(f);
    } catch (const YAML::Exception& e) {
        return make_error("`{}`:{}: {}", f, e.mark.line + 1, e.msg).with_hint("fix the YAML syntax at that line");
    }
    if (raw.IsNull()) return raw;
    if (!raw.IsMap()) return make_error("`{}`: the top level is not a mapping", f).with_hint("a compose file starts with `services:`");
    check_keys(raw, f);
    auto r = BOCK_TRY(resolve(raw, lookup, f));
    normalise_lists(r);
    return r;
}

// A path relative to `dir` made absolute ("./x", "x", "../x"; not "~").
std::string rebased(const std::string& dir, const std::string& path) {
    return path.starts_with("/") || path.starts_with("~") ? path : abs_path(dir, path);
}

// The relative paths of a service read from another file than the
// project's (extends.file, include) made absolute against that file's
// directory: build context, env_file, bind sources.
YAML::Node rebase_service(const YAML::Node& svc, const std::string& dir) {
    YAML::Node out(YAML::NodeType::Map);
    for (const auto& kv : svc) out[kv.first.Scalar()] = YAML::Clone(kv.second);
    if (auto b = out["build"]) {
        if (b.IsScalar()) out["build"] = rebased(dir, b.Scalar());
        else if (b.IsMap()) b["context"] = rebased(dir, b["context"] ? b["context"].as<std::string>(".") : ".");
    }
    if (auto ef = out["env_file"]) {
        if (ef.IsScalar()) out["env_file"] = rebased(dir, ef.Scalar());
        else if (ef.IsSequence())
            for (size_t i = 0; i < ef.size(); ++i)
                if (ef[i].IsScalar()) ef[i] = rebased(dir, ef[i].Scalar());
    }
    if (auto vs = out["volumes"]; vs && vs.IsSequence())
        for (size_t i = 0; i < vs.size(); ++i) {
            if (vs[i].IsScalar() && vs[i].Scalar().starts_with(".")) {
                auto v = vs[i].Scalar();
                auto colon = v.find(':');
                if (colon != std::string::npos) vs[i] = rebased(dir, v.substr(0, colon)) + v.substr(colon);
            } else if (vs[i].IsMap() && vs[i]["type"] && vs[i]["type"].as<std::string>("") == "bind" && vs[i]["source"]) {
                vs[i]["source"] = rebased(dir, vs[i]["source"].as<std::string>(""));
            }
        }
    return out;
}

// Service `name` of `root` (read from `file`) with its `extends` chain
// merged under it: the base first, the service's own keys over it, by the
// same rules as override files. `seen` refuses a cycle.
Result<YAML::Node> extended(const YAML::Node& root, const std::string& file, const std::string& name, const Lookup& lookup,
                            std::vector<std::string>& seen) {
    auto svc = root["services"] ? root["services"][name] : YAML::Node();
    if (!svc || !svc.IsMap()) return make_error("extends: `{}` has no service `{}`", file, name).with_hint("fix `extends.service` (or `extends.file`)");
    auto ext = svc["extends"];
    if (!ext) return svc;
    std::string key = file + ":" + name;
    if (std::find(seen.begin(), seen.end(), key) != seen.end())
        return make_error("services.{}.extends: a cycle: {} -> {}", name, fmt::join(seen, " -> "), key)
            .with_hint("a service cannot extend itself, directly or not");
    seen.push_back(key);
    std::string base_name, base_file = file;
    if (ext.IsScalar()) {
        base_name = ext.Scalar();
    } else if (ext.IsMap() && ext["service"]) {
        base_name = ext["service"].as<std::string>("");
        if (ext["file"]) base_file = abs_path(dirname(file), ext["file"].as<std::string>(""));
    } else {
        return make_error("services.{}.extends: expected a service name or {{service: S, file: F}}", name)
            .with_hint("see docs/compose.md");
    }
    // (yaml-cpp's Node assignment writes through to the node referred to:
    // fresh variables, never `root = other`.)
    YAML::Node other;
    if (base_file != file) {
        if (!fs::exists(base_file))
            return make_error("services.{}.extends.file: `{}`: no such file", name, base_file).with_hint("the path is relative to the extending file");
        other = BOCK_TRY(read_file(base_file, lookup));
    }
    auto base = BOCK_TRY(extended(base_file != file ? other : root, base_file, base_name, lookup, seen));
    seen.pop_back();
    YAML::Node own(YAML::NodeType::Map);
    for (const auto& kv : svc)
        if (kv.first.Scalar() != "extends") own[kv.first.Scalar()] = kv.second;
    YAML::Node copy(YAML::NodeType::Map);
    for (const auto& kv : base)
        if (kv.first.Scalar() != "extends") copy[kv.first.Scalar()] = kv.second;
    return merge(base_file != file ? rebase_service(copy, dirname(base_file)) : copy, own, "");
}

Result<void> apply_extends(YAML::Node& root, const std::string& file, const Lookup& lookup) {
    if (!root["services"] || !root["services"].IsMap()) return {};
    std::vector<std::pair<std::string, YAML::Node>> done;
    for (const auto& kv : root["services"])
        if (kv.second.IsMap() && kv.second["extends"]) {
            std::vector<std::string> seen;
            done.emplace_back(kv.first.Scalar(), BOCK_TRY(extended(root, file, kv.first.Scalar(), lookup, seen)));
        }
    for (auto& [name, node] : done) root["services"][name] = node;
    return {};
}

// Top-level `include`: each file (relative to the including one) read as
// its own model, its relative paths made absolute against its directory,
// its services, volumes, networks, secrets and configs added; a name
// defined twice is refused.
Result<void> apply_includes(YAML::Node& root, const std::string& file, const Lookup& lookup, std::vector<std::string>& chain) {
    auto inc = root["include"];
    if (!inc) return {};
    if (!inc.IsSequence()) return make_error("{}: include: expected a list of paths or {{path: ...}}", file).with_hint("see docs/compose.md");
    std::vector<std::string> paths;
    for (const auto& e : inc) {
        if (e.IsScalar()) paths.push_back(e.Scalar());
        else if (e.IsMap() && e["path"] && e["path"].IsScalar()) paths.push_back(e["path"].Scalar());
        else if (e.IsMap() && e["path"] && e["path"].IsSequence())
            for (const auto& p : e["path"]) paths.push_back(p.as<std::string>(""));
        else return make_error("{}: include: expected a path or {{path: ...}}", file).with_hint("see docs/compose.md");
        if (e.IsMap() && (e["project_directory"] || e["env_file"]))
            log::warn("{}: include: `project_directory` and `env_file` are not supported by bockrose yet: ignored", file);
    }
    for (const auto& rel : paths) {
        auto f = abs_path(dirname(file), rel);
        if (!fs::exists(f)) return make_error("{}: include: `{}`: no such file", file, f).with_hint("the path is relative to the including file");
        if (std::find(chain.begin(), chain.end(), f) != chain.end())
            return make_error("{}: include: a cycle: {} -> {}", file, fmt::join(chain, " -> "), f);
        auto r = BOCK_TRY(read_file(f, lookup));
        if (r.IsNull()) continue;
        chain.push_back(f);
        BOCK_TRY(apply_includes(r, f, lookup, chain));
        chain.pop_back();
        BOCK_TRY(apply_extends(r, f, lookup));
        auto dir = dirname(f);
        for (const char* section : {"services", "volumes", "networks", "secrets", "configs"}) {
            auto from = r[section];
            if (!from || !from.IsMap()) continue;
            if (!root[section] || !root[section].IsMap()) root[section] = YAML::Node(YAML::NodeType::Map);
            for (const auto& kv : from) {
                auto k = kv.first.Scalar();
                if (root[section][k])
                    return make_error("{}: include `{}`: {} `{}` is defined in both", file, rel, std::string(section).substr(0, std::string(section).size() - 1), k)
                        .with_hint("rename one of them (an included file's resources cannot be overridden in place)");
                std::string sec = section;
                if (sec == "services" && kv.second.IsMap()) {
                    root[section][k] = rebase_service(kv.second, dir);
                } else if ((sec == "secrets" || sec == "configs") && kv.second.IsMap() && kv.second["file"]) {
                    YAML::Node v = YAML::Clone(kv.second);
                    v["file"] = rebased(dir, kv.second["file"].as<std::string>(""));
                    root[section][k] = v;
                } else {
                    root[section][k] = kv.second;
                }
            }
        }
    }
    root.remove("include");
    return {};
}

std::vector<std::string> find_files(const LoadOptions& opts) {
    std::vector<std::string> files;
    if (!opts.files.empty()) {
        for (const auto& f : opts.files) files.push_back(abs_path(abs_path(cwd(), opts.working_directory), f));
        return files;
    }
    if (const char* env = std::getenv("COMPOSE_FILE"); env && *env) {
        for (const auto& f : strings::split(env, ':')) files.push_back(abs_path(cwd(), f));
        return files;
    }
    std::string dir = abs_path(cwd(), opts.project_directory.empty() ? opts.working_directory : opts.project_directory);
    for (const char* n : kDefaultNames)
        if (fs::exists(fs::join(dir, n))) {
            files.push_back(fs::join(dir, n));
            break;
        }
    if (files.empty()) return files;
    for (const char* n : kOverrideNames)
        if (fs::exists(fs::join(dir, n))) {
            files.push_back(fs::join(dir, n));
            break;
        }
    return files;
}

}  // namespace

std::string normalise_project_name(const std::string& raw) {
    std::string out;
    for (char c : raw) {
        char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (std::isalnum(static_cast<unsigned char>(l)) || l == '_' || l == '-') out += l;
    }
    while (!out.empty() && (out[0] == '_' || out[0] == '-')) out.erase(0, 1);
    return out;
}

Result<Project> load_project(const LoadOptions& opts) {
    Project p;
    p.files = find_files(opts);
    if (p.files.empty())
        return Error(ENOENT, "no compose file found: compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml")
            .with_hint("run in the project's directory, or name the file with -f FILE");
    for (const auto& f : p.files)
        if (!fs::exists(f)) return Error(ENOENT, fmt::format("compose file `{}`: no such file", f)).with_hint("check -f / COMPOSE_FILE");
    p.directory = opts.project_directory.empty() ? dirname(p.files[0]) : abs_path(cwd(), opts.project_directory);

    // Variables: the environment first, then .env (or --env-file).
    std::map<std::string, std::string> dotenv;
    std::vector<std::string> env_files = opts.env_files;
    if (env_files.empty() && fs::exists(fs::join(p.directory, ".env"))) env_files.push_back(fs::join(p.directory, ".env"));
    for (const auto& ef : env_files)
        for (auto& [k, v] : BOCK_TRY(read_dotenv(abs_path(cwd(), ef)))) dotenv[k] = v;
    Lookup lookup = [&](const std::string& name) -> std::optional<std::string> {
        if (const char* v = std::getenv(name.c_str())) return std::string(v);
        if (auto it = dotenv.find(name); it != dotenv.end()) return it->second;
        return std::nullopt;
    };

    YAML::Node merged;
    for (const auto& f : p.files) {
        auto r = BOCK_TRY(read_file(f, lookup));
        if (r.IsNull()) continue;
        std::vector<std::string> chain{f};
        BOCK_TRY(apply_includes(r, f, lookup, chain));
        BOCK_TRY(apply_extends(r, f, lookup));
        merged = merged ? merge(merged, r, "") : r;
    }
    if (!merged || !merged["services"] || !merged["services"].IsMap() || merged["services"].size() == 0)
        return make_error("`{}`: no services", p.files[0]).with_hint("a compose file needs a `services:` mapping");

    // The project's name: -p, COMPOSE_PROJECT_NAME, `name:`, the directory.
    std::string raw_name = opts.project_name;
    if (raw_name.empty()) raw_name = lookup("COMPOSE_PROJECT_NAME").value_or("");
    if (raw_name.empty() && merged["name"]) raw_name = merged["name"].as<std::string>("");
    if (raw_name.empty()) raw_name = p.directory.substr(p.directory.rfind('/') + 1);
    p.name = normalise_project_name(raw_name);
    if (p.name.empty())
        return make_error("project name `{}` has no letter or digit", raw_name).with_hint("name the project with -p NAME");
    if (!opts.project_name.empty() && p.name != opts.project_name)
        return make_error("project name `{}`: only lowercase letters, digits, `_` and `-`, starting with a letter or digit",
                          opts.project_name)
            .with_hint(fmt::format("e.g. -p {}", p.name));

    BOCK_TRY(parse_model(merged, p));

    // Profiles: a service that names some is enabled by one of them being
    // active (--profile, COMPOSE_PROFILES) or by being named.
    std::set<std::string> active(opts.profiles.begin(), opts.profiles.end());
    if (auto env = lookup("COMPOSE_PROFILES"))
        for (const auto& pr : strings::split(*env, ',')) active.insert(pr);
    std::map<std::string, std::string> disabled;  // service -> its profiles
    for (auto it = p.services.begin(); it != p.services.end();) {
        const auto& s = it->second;
        bool on = s.profiles.empty() || active.contains("*") ||
                  std::find(opts.named.begin(), opts.named.end(), s.name) != opts.named.end() ||
                  std::any_of(s.profiles.begin(), s.profiles.end(), [&](const auto& pr) { return active.contains(pr); });
        if (on) {
            ++it;
            continue;
        }
        disabled[s.name] = fmt::format("{}", fmt::join(s.profiles, ", "));
        it = p.services.erase(it);
    }
    for (const auto& [name, s] : p.services)
        for (const auto& [dep, d] : s.depends_on)
            if (auto it = disabled.find(dep); it != disabled.end() && d.required)
                return make_error("service `{}` depends on `{}`, which is only enabled by profile {}", name, dep, it->second)
                    .with_hint(fmt::format("add --profile {} (or COMPOSE_PROFILES)", strings::split(it->second, ',')[0]));
    return p;
}

}  // namespace bock::compose
