// `bock ps` (ps.hpp): status text, JSON entries, template fields, filters.
#include "bock/engine/ps.hpp"

#include <algorithm>

#include "bock/common/time.hpp"
#include "bock/engine/health.hpp"
#include "container_dirs.hpp"

namespace bock::engine {
namespace {

std::string command_text(const std::vector<std::string>& args, bool no_trunc) {
    std::string s;
    for (const auto& a : args) s += (s.empty() ? "" : " ") + a;
    if (!no_trunc && s.size() > 20) s = s.substr(0, 17) + "...";
    return "\"" + s + "\"";  // quoted, as Docker's .Command
}

std::string health_status(const Context& ctx, const ContainerInfo& c) {
    auto h = read_health(ctx, c.rec);
    return h ? h->value("Status", std::string()) : std::string();
}

// Docker's image names: "busybox" matches localhost/busybox:latest and
// docker.io/library/busybox:latest.
bool image_matches(const ContainerInfo& c, const std::string& want) {
    if (want.empty()) return false;
    if (c.rec.image == want || c.rec.image_id.rfind(want, 0) == 0 ||
        (want.rfind("sha256:", 0) == 0 && c.rec.image_id == want.substr(7)))
        return true;
    std::string name = c.rec.image;
    std::string w = want.find(':') == std::string::npos || want.rfind('/') > want.rfind(':') ? want + ":latest" : want;
    if (name == w) return true;
    auto slash_end = [&](const std::string& prefix) { return name == prefix + w; };
    return slash_end("localhost/") || slash_end("docker.io/library/") || slash_end("docker.io/");
}

// "0.0.0.0:8080->80/tcp, ..." as podman shows them.
std::string ports_text(const ContainerInfo& c) {
    std::string s;
    for (const auto& p : c.rec.ports) {
        std::string ip = p.host_ip.empty() ? "0.0.0.0" : p.host_ip;
        if (ip.find(':') != std::string::npos) ip = "[" + ip + "]";
        s += fmt::format("{}{}:{}->{}/{}", s.empty() ? "" : ", ", ip, p.host_port, p.container_port, p.proto);
    }
    return s;
}

nlohmann::json ports_json(const ContainerInfo& c) {
    auto arr = nlohmann::json::array();
    for (const auto& p : c.rec.ports)
        arr.push_back({{"host_ip", p.host_ip}, {"host_port", p.host_port}, {"container_port", p.container_port},
                       {"protocol", p.proto}});
    return arr;
}

}  // namespace

std::string state_name(const ContainerInfo& c) { return c.paused ? "paused" : c.status; }

std::string status_text(const Context& ctx, const ContainerInfo& c) {
    if (c.paused) return "Paused";  // podman's
    if (c.status == "running") {
        std::string s = "Up " + time::duration(time::now() - c.rec.started);
        if (auto h = health_status(ctx, c); !h.empty()) s += " (" + h + ")";
        return s;
    }
    if (c.status == "created") return "Created";
    if (c.status == "restarting") {
        std::string code = c.exit_code ? std::to_string(*c.exit_code) : "unknown";
        return fmt::format("Restarting ({}){}", code, c.finished > 0 ? " " + time::ago(c.finished) : "");
    }
    if (c.status == "exited") {
        std::string code = c.exit_code ? std::to_string(*c.exit_code) : "unknown";
        std::string when = c.finished > 0 ? " " + time::ago(c.finished) : "";
        if (!c.exit_code && !c.reason.empty()) return fmt::format("Exited ({}: {}){}", code, c.reason, when);
        return fmt::format("Exited ({}){}", code, when);
    }
    return "Unknown: " + c.reason;
}

nlohmann::json ps_json(const Context& ctx, const ContainerInfo& c) {
    nlohmann::json j{{"Id", c.rec.id},
                     {"Names", nlohmann::json::array({c.rec.name})},
                     {"Image", c.rec.image},
                     {"ImageID", c.rec.image_id},
                     {"Command", c.rec.command},
                     {"Created", c.rec.created},
                     {"CreatedAt", time::rfc3339(c.rec.created)},
                     {"StartedAt", c.rec.started},
                     {"ExitedAt", c.finished},
                     {"State", state_name(c)},
                     {"Status", status_text(ctx, c)},
                     {"Exited", c.status == "exited"},
                     {"Ports", ports_json(c)},
                     {"Labels", c.rec.labels},
                     {"AutoRemove", c.rec.auto_remove}};
    j["ExitCode"] = c.exit_code ? nlohmann::json(*c.exit_code) : nlohmann::json();
    if (!c.reason.empty()) j["Reason"] = c.reason;
    if (auto h = health_status(ctx, c); !h.empty()) j["Health"] = h;
    j["RestartCount"] = c.rec.restart_count;
    if (c.rec.detached) j["MonitorPid"] = c.rec.monitor_pid;
    return j;
}

nlohmann::json ps_fields(const Context& ctx, const ContainerInfo& c, bool no_trunc) {
    pid_t pid = 0;
    if (c.status == "running")
        if (auto p = container_pid(ContainerDirs::for_id(ctx, c.rec.id), container_parent(c.rec))) pid = *p;
    std::string labels;
    for (const auto& [k, v] : c.rec.labels) labels += (labels.empty() ? "" : ",") + k + "=" + v;
    return {{"ID", no_trunc ? c.rec.id : c.rec.id.substr(0, 12)},
            {"Names", c.rec.name},
            {"Image", c.rec.image},
            {"ImageID", no_trunc ? c.rec.image_id : c.rec.image_id.substr(0, 12)},
            {"Command", command_text(c.rec.command, no_trunc)},
            {"CreatedAt", time::rfc3339(c.rec.created)},
            {"Created", time::ago(c.rec.created)},
            {"CreatedHuman", time::ago(c.rec.created)},
            {"RunningFor", time::ago(c.rec.created)},
            {"Status", status_text(ctx, c)},
            {"State", state_name(c)},
            {"Ports", ports_text(c)},
            {"Labels", c.rec.labels},
            {"LabelsText", labels},
            {"Mounts", ""},
            {"Networks", c.rec.network},
            {"Size", ""},
            {"Pid", pid},
            {"ExitCode", c.exit_code ? *c.exit_code : 0},
            {"Health", health_status(ctx, c)},
            {"AutoRemove", c.rec.auto_remove}};
}

Result<PsFilter> PsFilter::parse(const std::vector<std::string>& filters) {
    static const char* keys[] = {"status", "name", "id", "label", "ancestor", "exited", "health"};
    PsFilter f;
    for (const auto& t : filters) {
        auto eq = t.find('=');
        std::string key = t.substr(0, eq);
        if (eq == std::string::npos || std::find(std::begin(keys), std::end(keys), key) == std::end(keys))
            return make_error("--filter `{}`: must be KEY=VALUE with KEY one of status, name, id, label, ancestor, "
                              "exited, health", t);
        std::string value = t.substr(eq + 1);
        if (key == "status" && value != "created" && value != "running" && value != "exited" && value != "paused" &&
            value != "restarting" && value != "removing" && value != "dead" && value != "stopped")
            return make_error("--filter status=`{}`: must be created, running, exited, paused, restarting, removing "
                              "or dead", value);
        if (key == "exited" && (value.empty() || value.find_first_not_of("0123456789") != std::string::npos))
            return make_error("--filter exited=`{}`: must be an exit code", value);
        f.terms_.emplace_back(key, value);
    }
    return f;
}

bool PsFilter::implies_all() const {
    return std::any_of(terms_.begin(), terms_.end(), [](const auto& t) { return t.first == "status" || t.first == "exited"; });
}

bool PsFilter::matches(const Context& ctx, const ContainerInfo& c) const {
    auto one = [&](const std::string& key, const std::string& v) {
        if (key == "status") return state_name(c) == v || (v == "stopped" && c.status == "exited");
        if (key == "name") return c.rec.name.find(v) != std::string::npos;
        if (key == "id") return c.rec.id.rfind(v, 0) == 0;
        if (key == "label") {
            auto eq = v.find('=');
            auto it = c.rec.labels.find(v.substr(0, eq));
            return it != c.rec.labels.end() && (eq == std::string::npos || it->second == v.substr(eq + 1));
        }
        if (key == "ancestor") return image_matches(c, v);
        if (key == "exited") return c.status == "exited" && c.exit_code && std::to_string(*c.exit_code) == v;
        if (key == "health") return health_status(ctx, c) == v || (v == "none" && health_status(ctx, c).empty());
        return false;
    };
    // Different keys: all must match; the same key: any of its values.
    std::vector<std::string> seen;
    for (const auto& [key, _] : terms_) {
        if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
        seen.push_back(key);
        bool any = false;
        for (const auto& [k, v] : terms_)
            if (k == key && one(k, v)) any = true;
        if (!any) return false;
    }
    return true;
}

}  // namespace bock::engine
