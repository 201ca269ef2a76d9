// The typed model from the merged YAML tree: each service key checked and
// normalised (short and long syntaxes to one form).
#include <set>
#include <tuple>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/strings.hpp"
#include "bock/engine/health.hpp"
#include "yaml_util.hpp"

namespace bock::compose {

namespace {

Error bad(const std::string& where, const std::string& what) {
    return make_error("{}: {}", where, what).with_hint("see docs/compose.md for the forms bockrose reads");
}

Result<std::string> scalar(const YAML::Node& n, const std::string& where) {
    if (!n.IsScalar()) return bad(where, "expected a string or number");
    return n.Scalar();
}

Result<bool> boolean(const YAML::Node& n, const std::string& where) {
    auto s = BOCK_TRY(scalar(n, where));
    if (s == "true" || s == "True" || s == "yes") return true;
    if (s == "false" || s == "False" || s == "no") return false;
    return bad(where, fmt::format("expected true or false, not `{}`", s));
}

Result<int> integer(const YAML::Node& n, const std::string& where) {
    auto s = BOCK_TRY(scalar(n, where));
    char* end = nullptr;
    long v = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end) return bad(where, fmt::format("expected a number, not `{}`", s));
    return static_cast<int>(v);
}

Result<std::vector<std::string>> string_list(const YAML::Node& n, const std::string& where) {
    std::vector<std::string> out;
    if (n.IsScalar()) return std::vector<std::string>{n.Scalar()};
    if (!n.IsSequence()) return bad(where, "expected a list");
    for (size_t i = 0; i < n.size(); ++i) out.push_back(BOCK_TRY(scalar(n[i], fmt::format("{}[{}]", where, i))));
    return out;
}

Result<std::map<std::string, std::string>> string_map(const YAML::Node& n, const std::string& where) {
    std::map<std::string, std::string> out;
    if (n.IsNull()) return out;
    if (n.IsSequence()) {
        for (const auto& e : n) {
            auto kv = BOCK_TRY(scalar(e, where));
            auto eq = kv.find('=');
            out[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
        }
        return out;
    }
    if (!n.IsMap()) return bad(where, "expected a mapping or a list of KEY=VALUE");
    for (const auto& kv : n) out[kv.first.Scalar()] = kv.second.IsNull() ? "" : BOCK_TRY(scalar(kv.second, where + "." + kv.first.Scalar()));
    return out;
}

// A command: a string split as a shell would, or a list.
Result<std::vector<std::string>> command(const YAML::Node& n, const std::string& where) {
    if (n.IsScalar()) return split_command(n.Scalar());
    return string_list(n, where);
}

Result<std::string> port(const YAML::Node& n, const std::string& where) {
    if (n.IsScalar()) return n.Scalar();
    if (!n.IsMap() || !n["target"]) return bad(where, "expected PORT, HOST:PORT or a mapping with `target`");
    std::string out;
    if (n["host_ip"]) out += BOCK_TRY(scalar(n["host_ip"], where + ".host_ip")) + ":";
    if (n["published"]) out += BOCK_TRY(scalar(n["published"], where + ".published")) + ":";
    else if (!out.empty()) out += ":";
    out += BOCK_TRY(scalar(n["target"], where + ".target"));
    if (n["protocol"]) out += "/" + BOCK_TRY(scalar(n["protocol"], where + ".protocol"));
    return out;
}

bool is_path(const std::string& s) {
    return s.starts_with("/") || s.starts_with(".") || s.starts_with("~");
}

std::string absolute(const std::string& base, const std::string& p) {
    if (p.starts_with("/")) return p;
    if (p == "~" || p.starts_with("~/")) {
        const char* home = std::getenv("HOME");
        return std::string(home ? home : "") + p.substr(1);
    }
    std::string rel = p;
    while (rel.starts_with("./")) rel = rel.substr(2);
    if (rel == ".") return base;
    return fs::join(base, rel);
}

Result<Mount> volume(const YAML::Node& n, const std::string& where, const Project& p) {
    Mount m;
    if (n.IsScalar()) {
        auto parts = strings::split(n.Scalar(), ':');
        if (parts.empty() || parts.size() > 3) return bad(where, fmt::format("`{}`: expected [SOURCE:]TARGET[:MODE]", n.Scalar()));
        if (parts.size() == 1) {
            m.type = "volume";
            m.target = parts[0];
        } else {
            m.source = parts[0];
            m.target = parts[1];
            m.type = is_path(m.source) ? "bind" : "volume";
            if (parts.size() == 3)
                for (const auto& o : strings::split(parts[2], ',')) {
                    if (o == "ro") m.read_only = true;
                    else if (o != "rw" && o != "z" && o != "Z")
                        return bad(where, fmt::format("`{}`: unknown volume mode `{}`", n.Scalar(), o));
                }
        }
    } else if (n.IsMap()) {
        m.type = n["type"] ? BOCK_TRY(scalar(n["type"], where + ".type")) : "volume";
        if (n["source"]) m.source = BOCK_TRY(scalar(n["source"], where + ".source"));
        if (!n["target"]) return bad(where, "a long-syntax volume needs `target`");
        m.target = BOCK_TRY(scalar(n["target"], where + ".target"));
        if (n["read_only"]) m.read_only = BOCK_TRY(boolean(n["read_only"], where + ".read_only"));
        if (m.type != "volume" && m.type != "bind" && m.type != "tmpfs")
            return bad(where, fmt::format("volume type `{}`: bockrose mounts volume, bind and tmpfs", m.type));
    } else {
        return bad(where, "expected a string or a mapping");
    }
    if (!m.target.starts_with("/")) return bad(where, fmt::format("target `{}` is not an absolute path", m.target));
    if (m.type == "bind") m.source = absolute(p.directory, m.source);
    return m;
}

Result<Healthcheck> healthcheck(const YAML::Node& n, const std::string& where) {
    Healthcheck h;
    if (!n.IsMap()) return bad(where, "expected a mapping");
    if (n["disable"]) h.disable = BOCK_TRY(boolean(n["disable"], where + ".disable"));
    if (n["test"]) {
        if (n["test"].IsScalar()) h.test = {"CMD-SHELL", n["test"].Scalar()};
        else h.test = BOCK_TRY(string_list(n["test"], where + ".test"));
        if (!h.test.empty() && h.test[0] == "NONE") h.disable = true;
        else if (h.test.empty() || (h.test[0] != "CMD" && h.test[0] != "CMD-SHELL"))
            return bad(where + ".test", "expected a string, or a list starting with CMD, CMD-SHELL or NONE");
    }
    for (auto [key, field] : {std::pair{"interval", &h.interval}, {"timeout", &h.timeout}, {"start_period", &h.start_period}})
        if (n[key]) {
            *field = BOCK_TRY(scalar(n[key], where + "." + key));
            if (auto d = engine::parse_go_duration(*field); !d) return bad(where + "." + key, d.error().message());
        }
    if (n["retries"]) h.retries = BOCK_TRY(integer(n["retries"], where + ".retries"));
    if (h.disable) h.test.clear();
    return h;
}

Result<Service> service(const std::string& name, const YAML::Node& n, const Project& p) {
    Service s;
    s.name = name;
    const std::string w = "services." + name;
    if (!n.IsMap()) return bad(w, "expected a mapping");
    if (n["image"]) s.image = BOCK_TRY(scalar(n["image"], w + ".image"));
    if (auto b = n["build"]) {
        BuildSpec spec;
        if (b.IsScalar()) {
            spec.context = b.Scalar();
        } else if (b.IsMap()) {
            if (b["context"]) spec.context = BOCK_TRY(scalar(b["context"], w + ".build.context"));
            if (b["dockerfile"]) spec.dockerfile = BOCK_TRY(scalar(b["dockerfile"], w + ".build.dockerfile"));
            if (b["target"]) spec.target = BOCK_TRY(scalar(b["target"], w + ".build.target"));
            if (b["args"]) spec.args = BOCK_TRY(string_map(b["args"], w + ".build.args"));
        } else {
            return bad(w + ".build", "expected a path or a mapping");
        }
        spec.context = absolute(p.directory, spec.context);
        s.build = spec;
    }
    if (s.image.empty() && !s.build) return bad(w, "needs `image` or `build`");
    if (n["command"] && !n["command"].IsNull()) s.command = BOCK_TRY(command(n["command"], w + ".command"));
    if (n["entrypoint"] && !n["entrypoint"].IsNull()) s.entrypoint = BOCK_TRY(command(n["entrypoint"], w + ".entrypoint"));
    // env_file first, environment over it.
    if (auto ef = n["env_file"]) {
        for (const auto& f : BOCK_TRY(string_list(ef, w + ".env_file"))) {
            auto vars = BOCK_TRY_CTX(read_dotenv(absolute(p.directory, f)), w + ".env_file");
            for (auto& [k, v] : vars) s.environment[k] = v;
        }
    }
    if (auto env = n["environment"]) {
        if (!env.IsMap()) return bad(w + ".environment", "expected a mapping or a list of KEY=VALUE");
        for (const auto& kv : env) {
            if (kv.second.IsNull()) s.environment[kv.first.Scalar()] = std::nullopt;
            else s.environment[kv.first.Scalar()] = BOCK_TRY(scalar(kv.second, w + ".environment." + kv.first.Scalar()));
        }
    }
    if (auto ports = n["ports"]) {
        if (!ports.IsSequence()) return bad(w + ".ports", "expected a list");
        for (size_t i = 0; i < ports.size(); ++i) s.ports.push_back(BOCK_TRY(port(ports[i], fmt::format("{}.ports[{}]", w, i))));
    }
    if (n["expose"]) s.expose = BOCK_TRY(string_list(n["expose"], w + ".expose"));
    if (auto vols = n["volumes"]) {
        if (!vols.IsSequence()) return bad(w + ".volumes", "expected a list");
        for (size_t i = 0; i < vols.size(); ++i) {
            auto where = fmt::format("{}.volumes[{}]", w, i);
            auto m = BOCK_TRY(volume(vols[i], where, p));
            if (m.type == "volume" && !m.source.empty() && !p.volumes.contains(m.source))
                return make_error("{}: service `{}` refers to undefined volume `{}`", where, name, m.source)
                    .with_hint(fmt::format("declare it under the top-level `volumes:` ({}: {{}})", m.source));
            s.volumes.push_back(m);
        }
    }
    if (n["network_mode"]) s.network_mode = BOCK_TRY(scalar(n["network_mode"], w + ".network_mode"));
    if (auto nets = n["networks"]) {
        if (!s.network_mode.empty()) return bad(w, "`networks` and `network_mode` cannot both be set");
        if (!nets.IsMap()) return bad(w + ".networks", "expected a list or a mapping");
        for (const auto& kv : nets) {
            std::string key = kv.first.Scalar();
            if (!p.networks.contains(key))
                return make_error("{}.networks: service `{}` refers to undefined network `{}`", w, name, key)
                    .with_hint(fmt::format("declare it under the top-level `networks:` ({}: {{}})", key));
            NetworkAttach a;
            if (kv.second.IsMap()) {
                if (kv.second["aliases"]) a.aliases = BOCK_TRY(string_list(kv.second["aliases"], w + ".networks." + key + ".aliases"));
                if (kv.second["ipv4_address"]) a.ipv4_address = BOCK_TRY(scalar(kv.second["ipv4_address"], w + ".networks." + key + ".ipv4_address"));
            }
            s.networks[key] = a;
        }
    }
    if (s.network_mode.empty() && s.networks.empty()) s.networks["default"] = {};
    if (!s.network_mode.empty() && s.network_mode != "none" && s.network_mode != "host" &&
        !s.network_mode.starts_with("service:") && !s.network_mode.starts_with("container:"))
        return bad(w + ".network_mode", fmt::format("`{}`: expected none, host, service:NAME or container:NAME", s.network_mode));
    if (auto deps = n["depends_on"]) {
        if (!deps.IsMap()) return bad(w + ".depends_on", "expected a list or a mapping");
        for (const auto& kv : deps) {
            DependsOn d;
            auto dw = w + ".depends_on." + kv.first.Scalar();
            if (kv.second.IsMap()) {
                if (kv.second["condition"]) d.condition = BOCK_TRY(scalar(kv.second["condition"], dw + ".condition"));
                if (kv.second["restart"]) d.restart = BOCK_TRY(boolean(kv.second["restart"], dw + ".restart"));
                if (kv.second["required"]) d.required = BOCK_TRY(boolean(kv.second["required"], dw + ".required"));
            }
            if (d.condition != "service_started" && d.condition != "service_healthy" &&
                d.condition != "service_completed_successfully")
                return bad(dw + ".condition", fmt::format("`{}`: expected service_started, service_healthy or "
                                                          "service_completed_successfully", d.condition));
            s.depends_on[kv.first.Scalar()] = d;
        }
    }
    if (n["healthcheck"]) s.healthcheck = BOCK_TRY(healthcheck(n["healthcheck"], w + ".healthcheck"));
    if (n["restart"]) s.restart = BOCK_TRY(scalar(n["restart"], w + ".restart"));
    for (auto [key, field] : {std::pair{"user", &s.user}, {"working_dir", &s.working_dir}, {"hostname", &s.hostname},
                              {"stop_signal", &s.stop_signal}})
        if (n[key]) *field = BOCK_TRY(scalar(n[key], w + "." + key));
    if (n["labels"]) s.labels = BOCK_TRY(string_map(n["labels"], w + ".labels"));
    for (auto [key, field] : {std::pair{"cap_add", &s.cap_add}, {"cap_drop", &s.cap_drop}, {"tmpfs", &s.tmpfs},
                              {"dns", &s.dns}, {"extra_hosts", &s.extra_hosts}})
        if (n[key]) *field = BOCK_TRY(string_list(n[key], w + "." + key));
    for (auto [key, field] : {std::pair{"read_only", &s.read_only}, {"init", &s.init}, {"tty", &s.tty},
                              {"stdin_open", &s.stdin_open}, {"privileged", &s.privileged}})
        if (n[key]) *field = BOCK_TRY(boolean(n[key], w + "." + key));
    if (n["stop_grace_period"]) {
        auto text = BOCK_TRY(scalar(n["stop_grace_period"], w + ".stop_grace_period"));
        auto ns = engine::parse_go_duration(text);
        if (!ns) return bad(w + ".stop_grace_period", ns.error().message());
        s.stop_grace_period = static_cast<int>((*ns + 999'999'999) / 1'000'000'000);
    }
    if (auto d = n["deploy"]) {
        if (!d.IsMap()) return bad(w + ".deploy", "expected a mapping");
        if (d["replicas"]) s.replicas = BOCK_TRY(integer(d["replicas"], w + ".deploy.replicas"));
        if (s.replicas < 0) return bad(w + ".deploy.replicas", "must not be negative");
        for (const auto& kv : d) {
            auto key = kv.first.Scalar();
            if (key == "replicas") continue;
            if (key != "resources") {
                log::warn("{}.deploy.{} is not supported by bockrose yet: ignored", w, key);
                continue;
            }
            for (const auto& r : kv.second) {
                auto rw = w + ".deploy.resources." + r.first.Scalar();
                if (r.first.Scalar() != "limits") {
                    log::warn("{} is not supported by bockrose yet: ignored", rw);
                    continue;
                }
                if (!r.second.IsMap()) return bad(rw, "expected a mapping (memory, cpus, pids)");
                for (const auto& l : r.second) {
                    auto lk = l.first.Scalar();
                    if (lk == "memory") s.mem_limit = BOCK_TRY(scalar(l.second, rw + ".memory"));
                    else if (lk == "cpus") s.cpus = BOCK_TRY(scalar(l.second, rw + ".cpus"));
                    else if (lk == "pids") s.pids_limit = BOCK_TRY(integer(l.second, rw + ".pids"));
                    else log::warn("{}.{} is not supported by bockrose yet: ignored", rw, lk);
                }
            }
        }
    }
    if (auto lg = n["logging"]) {
        if (!lg.IsMap()) return bad(w + ".logging", "expected a mapping with `driver` and `options`");
        if (lg["driver"]) s.log_driver = BOCK_TRY(scalar(lg["driver"], w + ".logging.driver"));
        if (lg["options"]) s.log_opts = BOCK_TRY(string_map(lg["options"], w + ".logging.options"));
    }
    if (n["volumes_from"]) s.volumes_from = BOCK_TRY(string_list(n["volumes_from"], w + ".volumes_from"));
    for (const auto& vf : s.volumes_from)
        if (auto src = volumes_from_service(vf); !src.empty()) s.depends_on.emplace(src, DependsOn{});
    // secrets -> /run/secrets/NAME, configs -> /NAME (or the long syntax's
    // target), read-only binds of the top-level declaration's file.
    for (auto [key, decls, dir] : {std::tuple{"secrets", &p.secrets, "/run/secrets/"}, {"configs", &p.configs, "/"}}) {
        if (!n[key]) continue;
        auto list = n[key];
        if (!list.IsSequence()) return bad(w + "." + key, "expected a list");
        for (size_t i = 0; i < list.size(); ++i) {
            auto iw = fmt::format("{}.{}[{}]", w, key, i);
            std::string source, target;
            if (list[i].IsMap()) {
                if (!list[i]["source"]) return bad(iw, "the long syntax needs `source`");
                source = BOCK_TRY(scalar(list[i]["source"], iw + ".source"));
                if (list[i]["target"]) target = BOCK_TRY(scalar(list[i]["target"], iw + ".target"));
            } else {
                source = BOCK_TRY(scalar(list[i], iw));
            }
            auto it = decls->find(source);
            if (it == decls->end())
                return make_error("{}: service `{}` refers to undefined {} `{}`", iw, name, std::string(key).substr(0, 6), source)
                    .with_hint(fmt::format("declare it under the top-level `{}:` ({}: {{file: ./PATH}})", key, source));
            if (target.empty()) target = source;
            if (!target.starts_with("/")) target = dir + target;
            s.volumes.push_back(Mount{"bind", it->second, target, true});
        }
    }
    for (auto [key, field] : {std::pair{"dns_search", &s.dns_search}, {"dns_opt", &s.dns_opt}, {"devices", &s.devices},
                              {"group_add", &s.group_add}, {"security_opt", &s.security_opt}})
        if (n[key]) *field = BOCK_TRY(string_list(n[key], w + "." + key));
    for (auto [key, field] : {std::pair{"shm_size", &s.shm_size}, {"pid", &s.pid}, {"ipc", &s.ipc}})
        if (n[key]) *field = BOCK_TRY(scalar(n[key], w + "." + key));
    if (n["sysctls"])
        for (const auto& [k, v] : BOCK_TRY(string_map(n["sysctls"], w + ".sysctls"))) s.sysctls.push_back(k + "=" + v);
    if (auto u = n["ulimits"]) {
        if (!u.IsMap()) return bad(w + ".ulimits", "expected a mapping of NAME: N or NAME: {soft: N, hard: N}");
        for (const auto& kv : u) {
            auto uw = w + ".ulimits." + kv.first.Scalar();
            if (kv.second.IsMap()) {
                if (!kv.second["soft"] || !kv.second["hard"]) return bad(uw, "expected soft and hard");
                s.ulimits.push_back(fmt::format("{}={}:{}", kv.first.Scalar(), BOCK_TRY(integer(kv.second["soft"], uw + ".soft")),
                                                BOCK_TRY(integer(kv.second["hard"], uw + ".hard"))));
            } else {
                s.ulimits.push_back(fmt::format("{}={}", kv.first.Scalar(), BOCK_TRY(integer(kv.second, uw))));
            }
        }
    }
    if (n["profiles"]) s.profiles = BOCK_TRY(string_list(n["profiles"], w + ".profiles"));
    if (n["container_name"]) {
        if (s.replicas > 1) return bad(w, "`container_name` with more than one replica");
        s.labels.emplace("bock.compose.container_name", BOCK_TRY(scalar(n["container_name"], w + ".container_name")));
    }
    return s;
}

}  // namespace

Result<void> parse_model(const YAML::Node& root, Project& p) {
    auto decl = [&](const YAML::Node& n, const std::string& key, const std::string& where, std::string& name, bool& external,
                    std::map<std::string, std::string>& labels) -> Result<void> {
        name = p.name + "_" + key;
        if (n.IsNull()) return {};
        if (!n.IsMap()) return bad(where, "expected a mapping");
        if (n["external"]) external = BOCK_TRY(boolean(n["external"], where + ".external"));
        if (external) name = key;
        if (n["name"]) name = BOCK_TRY(scalar(n["name"], where + ".name"));
        if (n["labels"]) labels = BOCK_TRY(string_map(n["labels"], where + ".labels"));
        return {};
    };
    if (auto vols = root["volumes"]) {
        if (!vols.IsMap()) return bad("volumes", "expected a mapping");
        for (const auto& kv : vols) {
            VolumeDecl v;
            BOCK_TRY(decl(kv.second, kv.first.Scalar(), "volumes." + kv.first.Scalar(), v.name, v.external, v.labels));
            p.volumes[kv.first.Scalar()] = v;
        }
    }
    for (auto [key, files] : {std::pair{"secrets", &p.secrets}, {"configs", &p.configs}}) {
        auto decls = root[key];
        if (!decls) continue;
        if (!decls.IsMap()) return bad(key, "expected a mapping");
        for (const auto& kv : decls) {
            auto where = std::string(key) + "." + kv.first.Scalar();
            if (!kv.second.IsMap() || !kv.second["file"])
                return bad(where, "bockrose reads file-based ones only (`file: ./PATH`)");
            auto f = absolute(p.directory, BOCK_TRY(scalar(kv.second["file"], where + ".file")));
            if (!fs::exists(f))
                return make_error("{}.file: {}: no such file", where, f).with_hint("create it, or fix the path (relative to the project directory)");
            (*files)[kv.first.Scalar()] = f;
        }
    }
    p.networks["default"] = NetworkDecl{p.name + "_default", false, false, {}};
    if (auto nets = root["networks"]) {
        if (!nets.IsMap()) return bad("networks", "expected a mapping");
        for (const auto& kv : nets) {
            NetworkDecl d;
            auto where = "networks." + kv.first.Scalar();
            BOCK_TRY(decl(kv.second, kv.first.Scalar(), where, d.name, d.external, d.labels));
            if (kv.second.IsMap() && kv.second["internal"]) d.internal = BOCK_TRY(boolean(kv.second["internal"], where + ".internal"));
            p.networks[kv.first.Scalar()] = d;
        }
    }
    for (const auto& kv : root["services"]) {
        std::string name = kv.first.Scalar();
        if (name.empty() || name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != std::string::npos)
            return bad("services." + name, "a service name is letters, digits, `_`, `.` and `-`");
        p.services[name] = BOCK_TRY(service(name, kv.second, p));
    }
    for (const auto& [name, s] : p.services) {
        for (const auto& vf : s.volumes_from)
            if (auto src = volumes_from_service(vf); !src.empty() && !p.services.contains(src))
                return make_error("services.{}.volumes_from: undefined service `{}`", name, src)
                    .with_hint("name a service of the project, or container:NAME for another container");
        for (const auto& [dep, d] : s.depends_on)
            if (!p.services.contains(dep) && d.required)
                return make_error("services.{}.depends_on: service `{}` depends on undefined service `{}`", name, name, dep)
                    .with_hint("fix the name, or define the service");
        if (s.network_mode.starts_with("service:") && !p.services.contains(s.network_mode.substr(8)))
            return make_error("services.{}.network_mode: undefined service `{}`", name, s.network_mode.substr(8));
    }
    return {};
}

}  // namespace bock::compose
