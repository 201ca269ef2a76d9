// A service as the engine's RunRequest: the same option strings `bock run`
// takes, so ports, volumes, networks and health checks are parsed by the
// engine alone.
#include <algorithm>

#include "bock/common/fs.hpp"
#include "bock/compose/project.hpp"

namespace bock::compose {

std::string container_name(const Project& p, const Service& s, int number) {
    if (auto it = s.labels.find("bock.compose.container_name"); it != s.labels.end()) return it->second;
    return fmt::format("{}-{}-{}", p.name, s.name, number);
}

Result<engine::RunRequest> run_request(const Project& p, const Service& s, int number, std::vector<std::string>& warnings) {
    engine::RunRequest r;
    r.image = s.image_name(p.name);
    r.detach = true;
    r.name = container_name(p, s, number);
    if (s.entrypoint) {
        // The engine's --entrypoint is one word; the rest go before the command.
        r.entrypoint = s.entrypoint->empty() ? "" : (*s.entrypoint)[0];
        if (s.entrypoint->size() > 1) r.args.assign(s.entrypoint->begin() + 1, s.entrypoint->end());
    }
    if (s.command) r.args.insert(r.args.end(), s.command->begin(), s.command->end());
    for (const auto& [k, v] : s.environment) r.env.push_back(v ? k + "=" + *v : k);
    if (!s.working_dir.empty()) r.workdir = s.working_dir;
    if (!s.user.empty()) r.user = s.user;
    if (!s.hostname.empty()) r.hostname = s.hostname;

    // Networks: the project's, by their engine names; the service's name
    // and aliases as aliases on each.
    if (!s.network_mode.empty()) {
        if (s.network_mode.starts_with("service:")) {
            const auto& other = p.services.at(s.network_mode.substr(8));
            r.network = "container:" + container_name(p, other, 1);
        } else {
            r.network = s.network_mode;
        }
    } else {
        std::vector<std::string> names;
        r.network_aliases.push_back(s.name);
        for (const auto& [key, a] : s.networks) {
            names.push_back(p.networks.at(key).name);
            for (const auto& al : a.aliases)
                if (std::find(r.network_aliases.begin(), r.network_aliases.end(), al) == r.network_aliases.end())
                    r.network_aliases.push_back(al);
            if (!a.ipv4_address.empty()) {
                if (s.networks.size() > 1)
                    warnings.push_back(fmt::format("service `{}`: ipv4_address on one of several networks is not "
                                                   "supported yet: ignored", s.name));
                else
                    r.ip = a.ipv4_address;
            }
        }
        for (const auto& n : names) r.network += (r.network.empty() ? "" : ",") + n;
        // The engine keeps an alias to one container: replicas after the
        // first answer to their own names only (docs/compose.md, "Not yet").
        if (number > 1) r.network_aliases.clear();
    }
    // Published ports: to the container's address on its first network
    // (a service network's forwarder, docs/networking.md). A container
    // sharing another's network namespace has no ports of its own.
    if (!s.ports.empty()) {
        if (s.network_mode.starts_with("service:") || s.network_mode.starts_with("container:") ||
            s.network_mode == "none" || s.network_mode == "host")
            warnings.push_back(fmt::format("service `{}`: ports {} not published: network_mode `{}` has no ports of "
                                           "its own (publish them on the service that owns the network)",
                                           s.name, fmt::join(s.ports, ", "), s.network_mode));
        else
            r.publish = s.ports;
    }
    for (const auto& m : s.volumes) {
        if (m.type == "tmpfs") {
            r.tmpfs.push_back(m.target);
            continue;
        }
        std::string src;
        if (m.type == "bind") {
            // Compose creates a missing bind source as a directory.
            if (!fs::exists(m.source)) BOCK_TRY_CTX(fs::mkdir_p(m.source), fmt::format("service `{}`: create bind source", s.name));
            src = m.source;
        } else if (!m.source.empty()) {
            src = p.volumes.at(m.source).name;
        }
        r.volumes.push_back((src.empty() ? "" : src + ":") + m.target + (m.read_only ? ":ro" : ""));
    }
    r.tmpfs.insert(r.tmpfs.end(), s.tmpfs.begin(), s.tmpfs.end());
    for (const auto& vf : s.volumes_from) {
        auto svc = volumes_from_service(vf);
        auto mode = vf.rfind(':');
        std::string suffix = mode != std::string::npos && (vf.substr(mode) == ":ro" || vf.substr(mode) == ":rw") ? vf.substr(mode) : "";
        if (svc.empty()) r.volumes_from.push_back(vf.substr(10));  // container:C[:mode]
        else r.volumes_from.push_back(container_name(p, p.services.at(svc), 1) + suffix);
    }
    if (!s.log_driver.empty()) r.log_driver = s.log_driver;
    for (const auto& [k, v] : s.log_opts) r.log_opts.push_back(k + "=" + v);
    r.memory = s.mem_limit;
    r.cpus = s.cpus;
    r.pids_limit = s.pids_limit;
    r.ignore_limits = p.ignore_limits;
    r.dns = s.dns;
    for (const auto& h : s.extra_hosts) {
        // Compose writes HOST:IP or HOST=IP; the engine takes HOST:IP.
        std::string e = h;
        if (auto eq = e.find('='); eq != std::string::npos) e[eq] = ':';
        r.add_host.push_back(e);
    }

    for (const auto& [k, v] : s.labels)
        if (k != "bock.compose.container_name") r.labels.push_back(k + "=" + v);
    r.labels.push_back(fmt::format("{}={}", kProjectLabel, p.name));
    r.labels.push_back(fmt::format("{}={}", kServiceLabel, s.name));
    r.labels.push_back(fmt::format("{}={}", kNumberLabel, number));
    r.labels.push_back(fmt::format("{}=False", kOneoffLabel));
    r.labels.push_back(fmt::format("{}={}", kHashLabel, s.config_hash()));
    r.labels.push_back(fmt::format("com.docker.compose.project.working_dir={}", p.directory));
    r.labels.push_back(fmt::format("com.docker.compose.project.config_files={}", fmt::join(p.files, ",")));

    if (s.healthcheck) {
        if (s.healthcheck->disable) {
            r.health.none = true;
        } else {
            if (!s.healthcheck->test.empty()) r.health.cmd = nlohmann::json(s.healthcheck->test).dump();
            if (!s.healthcheck->interval.empty()) r.health.interval = s.healthcheck->interval;
            if (!s.healthcheck->timeout.empty()) r.health.timeout = s.healthcheck->timeout;
            if (!s.healthcheck->start_period.empty()) r.health.start_period = s.healthcheck->start_period;
            r.health.retries = s.healthcheck->retries;
        }
    }
    r.restart = s.restart;
    if (!s.stop_signal.empty()) r.stop_signal = s.stop_signal;
    if (s.stop_grace_period) r.stop_timeout = *s.stop_grace_period;
    r.init = s.init;
    r.tty = s.tty;
    r.interactive = s.stdin_open;
    r.security.cap_add = s.cap_add;
    r.security.cap_drop = s.cap_drop;
    r.security.read_only = s.read_only;
    r.security.privileged = s.privileged;
    r.dns_search = s.dns_search;
    r.dns_option = s.dns_opt;
    r.security.sysctls = s.sysctls;
    r.security.ulimits = s.ulimits;
    r.security.devices = s.devices;
    r.security.group_add = s.group_add;
    r.security.security_opt = s.security_opt;
    r.security.shm_size = s.shm_size;
    // pid/ipc: host, or service:S -> the service's first container.
    auto shared = [&](const std::string& v) {
        return v.starts_with("service:") && p.services.contains(v.substr(8))
                   ? "container:" + container_name(p, p.services.at(v.substr(8)), 1)
                   : v;
    };
    r.security.pid = shared(s.pid);
    r.security.ipc = shared(s.ipc);
    return r;
}

Result<std::vector<engine::ContainerInfo>> project_containers(const engine::Context& ctx, const std::string& project) {
    auto all = BOCK_TRY(engine::list_containers(ctx));
    std::vector<engine::ContainerInfo> out;
    for (auto& c : all) {
        auto it = c.rec.labels.find(kProjectLabel);
        if (it != c.rec.labels.end() && it->second == project) out.push_back(std::move(c));
    }
    std::reverse(out.begin(), out.end());  // oldest first
    return out;
}

}  // namespace bock::compose
