// The normalised model (what `config` prints and the config hash is taken
// of) and the dependency order.
#include <algorithm>
#include <functional>
#include <set>

#include <yaml-cpp/yaml.h>

#include "bock/compose/model.hpp"
#include "bock/image/digest.hpp"

namespace bock::compose {

nlohmann::json Service::to_json() const {
    nlohmann::json j = nlohmann::json::object();
    if (!image.empty()) j["image"] = image;
    if (build) {
        j["build"] = {{"context", build->context}};
        if (!build->dockerfile.empty()) j["build"]["dockerfile"] = build->dockerfile;
        if (!build->target.empty()) j["build"]["target"] = build->target;
        if (!build->args.empty()) j["build"]["args"] = build->args;
    }
    if (command) j["command"] = *command;
    if (entrypoint) j["entrypoint"] = *entrypoint;
    if (!environment.empty()) {
        auto& env = j["environment"] = nlohmann::json::object();
        for (const auto& [k, v] : environment) env[k] = v ? nlohmann::json(*v) : nlohmann::json(nullptr);
    }
    if (!ports.empty()) j["ports"] = ports;
    if (!expose.empty()) j["expose"] = expose;
    if (!volumes.empty()) {
        auto& vs = j["volumes"] = nlohmann::json::array();
        for (const auto& m : volumes) {
            nlohmann::json v = {{"type", m.type}, {"target", m.target}};
            if (!m.source.empty()) v["source"] = m.source;
            if (m.read_only) v["read_only"] = true;
            vs.push_back(v);
        }
    }
    if (!networks.empty()) {
        auto& ns = j["networks"] = nlohmann::json::object();
        for (const auto& [k, a] : networks) {
            nlohmann::json v = nullptr;
            if (!a.aliases.empty()) v["aliases"] = a.aliases;
            if (!a.ipv4_address.empty()) v["ipv4_address"] = a.ipv4_address;
            ns[k] = v;
        }
    }
    if (!network_mode.empty()) j["network_mode"] = network_mode;
    if (!depends_on.empty()) {
        auto& ds = j["depends_on"] = nlohmann::json::object();
        for (const auto& [k, d] : depends_on)
            ds[k] = {{"condition", d.condition}, {"restart", d.restart}, {"required", d.required}};
    }
    if (healthcheck) {
        auto& h = j["healthcheck"] = nlohmann::json::object();
        if (healthcheck->disable) h["disable"] = true;
        if (!healthcheck->test.empty()) h["test"] = healthcheck->test;
        if (!healthcheck->interval.empty()) h["interval"] = healthcheck->interval;
        if (!healthcheck->timeout.empty()) h["timeout"] = healthcheck->timeout;
        if (!healthcheck->start_period.empty()) h["start_period"] = healthcheck->start_period;
        if (healthcheck->retries) h["retries"] = *healthcheck->retries;
    }
    if (restart != "no") j["restart"] = restart;
    if (!user.empty()) j["user"] = user;
    if (!working_dir.empty()) j["working_dir"] = working_dir;
    if (!hostname.empty()) j["hostname"] = hostname;
    if (!labels.empty()) j["labels"] = labels;
    for (auto [key, list] : {std::pair{"cap_add", &cap_add}, {"cap_drop", &cap_drop}, {"tmpfs", &tmpfs},
                             {"dns", &dns}, {"extra_hosts", &extra_hosts}, {"dns_search", &dns_search},
                             {"dns_opt", &dns_opt}, {"sysctls", &sysctls}, {"ulimits", &ulimits}, {"devices", &devices},
                             {"group_add", &group_add}, {"security_opt", &security_opt}})
        if (!list->empty()) j[key] = *list;
    for (auto [key, flag] : {std::pair{"read_only", read_only}, {"init", init}, {"tty", tty},
                             {"stdin_open", stdin_open}, {"privileged", privileged}})
        if (flag) j[key] = true;
    if (!stop_signal.empty()) j["stop_signal"] = stop_signal;
    for (auto [key, field] : {std::pair{"shm_size", &shm_size}, {"pid", &pid}, {"ipc", &ipc}})
        if (!field->empty()) j[key] = *field;
    if (stop_grace_period) j["stop_grace_period"] = std::to_string(*stop_grace_period) + "s";
    if (replicas != 1) j["deploy"]["replicas"] = replicas;
    if (!mem_limit.empty()) j["deploy"]["resources"]["limits"]["memory"] = mem_limit;
    if (!cpus.empty()) j["deploy"]["resources"]["limits"]["cpus"] = cpus;
    if (pids_limit) j["deploy"]["resources"]["limits"]["pids"] = *pids_limit;
    if (!log_driver.empty()) j["logging"]["driver"] = log_driver;
    if (!log_opts.empty()) j["logging"]["options"] = log_opts;
    if (!volumes_from.empty()) j["volumes_from"] = volumes_from;
    if (!profiles.empty()) j["profiles"] = profiles;
    return j;
}

std::string Service::config_hash() const {
    // The number of replicas is not part of a container's config: scaling
    // adds or removes containers, it does not recreate the others.
    auto j = to_json();
    if (j.contains("deploy")) {
        j["deploy"].erase("replicas");
        if (j["deploy"].empty()) j.erase("deploy");
    }
    return image::sha256_of(j.dump()).hex;
}

std::string volumes_from_service(const std::string& entry) {
    if (entry.starts_with("container:")) return "";
    auto rest = entry.starts_with("service:") ? entry.substr(8) : entry;
    return rest.substr(0, rest.find(':'));
}

std::string Service::image_name(const std::string& project) const {
    return image.empty() ? project + "-" + name : image;
}

nlohmann::json Project::to_json() const {
    nlohmann::json j = {{"name", name}};
    auto& ss = j["services"] = nlohmann::json::object();
    for (const auto& [k, s] : services) ss[k] = s.to_json();
    auto& ns = j["networks"] = nlohmann::json::object();
    for (const auto& [k, n] : networks) {
        nlohmann::json v = {{"name", n.name}};
        if (n.external) v["external"] = true;
        if (n.internal) v["internal"] = true;
        if (!n.labels.empty()) v["labels"] = n.labels;
        ns[k] = v;
    }
    for (auto [key, files] : {std::pair{"secrets", &secrets}, {"configs", &configs}})
        for (const auto& [k, f] : *files) j[key][k] = {{"file", f}};
    if (!volumes.empty()) {
        auto& vs = j["volumes"] = nlohmann::json::object();
        for (const auto& [k, v] : volumes) {
            nlohmann::json o = {{"name", v.name}};
            if (v.external) o["external"] = true;
            if (!v.labels.empty()) o["labels"] = v.labels;
            vs[k] = o;
        }
    }
    return j;
}

namespace {

void emit(YAML::Emitter& out, const nlohmann::json& j) {
    if (j.is_object()) {
        out << YAML::BeginMap;
        for (const auto& [k, v] : j.items()) {
            out << YAML::Key << k << YAML::Value;
            emit(out, v);
        }
        out << YAML::EndMap;
    } else if (j.is_array()) {
        out << YAML::BeginSeq;
        for (const auto& v : j) emit(out, v);
        out << YAML::EndSeq;
    } else if (j.is_string()) {
        out << j.get<std::string>();
    } else if (j.is_null()) {
        out << YAML::Null;
    } else {
        out << j.dump();
    }
}

}  // namespace

std::string to_yaml(const nlohmann::json& j) {
    YAML::Emitter out;
    emit(out, j);
    return std::string(out.c_str()) + "\n";
}

Result<std::vector<std::vector<std::string>>> start_levels(const Project& p, const std::vector<std::string>& selected) {
    auto deps_of = [&](const Service& s) {
        std::vector<std::string> d;
        for (const auto& [k, dep] : s.depends_on)
            if (p.services.contains(k)) d.push_back(k);
        if (s.network_mode.starts_with("service:")) d.push_back(s.network_mode.substr(8));
        return d;
    };
    // The selection and everything it depends on.
    std::set<std::string> want;
    std::vector<std::string> todo = selected;
    if (todo.empty())
        for (const auto& [k, s] : p.services) todo.push_back(k);
    while (!todo.empty()) {
        auto n = todo.back();
        todo.pop_back();
        auto it = p.services.find(n);
        if (it == p.services.end())
            return make_error("no such service: {}", n).with_hint("`bockrose config --services` lists them");
        if (!want.insert(n).second) continue;
        for (const auto& d : deps_of(it->second)) todo.push_back(d);
    }
    // A cycle, named by a depth-first walk.
    std::map<std::string, int> mark;  // 1: on the path, 2: done
    std::vector<std::string> path;
    std::string cycle;
    std::function<bool(const std::string&)> visit = [&](const std::string& n) {
        mark[n] = 1;
        path.push_back(n);
        for (const auto& d : deps_of(p.services.at(n))) {
            if (mark[d] == 1) {
                auto from = std::find(path.begin(), path.end(), d);
                for (auto i = from; i != path.end(); ++i) cycle += *i + " -> ";
                cycle += d;
                return true;
            }
            if (mark[d] == 0 && visit(d)) return true;
        }
        path.pop_back();
        mark[n] = 2;
        return false;
    };
    for (const auto& n : want)
        if (mark[n] == 0 && visit(n))
            return make_error("dependency cycle between services: {}", cycle)
                .with_hint("remove one of these depends_on (or network_mode: service:) entries");
    // Levels: a service goes one level after its deepest dependency.
    std::map<std::string, int> level;
    std::function<int(const std::string&)> depth = [&](const std::string& n) {
        if (auto it = level.find(n); it != level.end()) return it->second;
        int l = 0;
        for (const auto& d : deps_of(p.services.at(n))) l = std::max(l, depth(d) + 1);
        return level[n] = l;
    };
    std::vector<std::vector<std::string>> out;
    for (const auto& n : want) {
        int l = depth(n);
        if (out.size() <= static_cast<size_t>(l)) out.resize(l + 1);
        out[l].push_back(n);
    }
    return out;
}

}  // namespace bock::compose
