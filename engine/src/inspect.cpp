// `bock inspect` of a container (inspect.hpp): Docker's document.
#include "bock/engine/inspect.hpp"
#include "bock/engine/volumes.hpp"

#include "bock/common/time.hpp"
#include "bock/engine/health.hpp"
#include "container_dirs.hpp"

namespace bock::engine {
namespace {

using nlohmann::json;

std::string go_zero_time() { return "0001-01-01T00:00:00Z"; }

json string_list_or_null(const std::vector<std::string>& v) { return v.empty() ? json(nullptr) : json(v); }

// Docker's Config.Healthcheck from the record's form.
json docker_healthcheck(const json& h) {
    if (!h.is_object()) return nullptr;
    return {{"Test", h.value("test", json::array())},
            {"Interval", h.value("interval_ns", int64_t{0})},
            {"Timeout", h.value("timeout_ns", int64_t{0})},
            {"StartPeriod", h.value("start_period_ns", int64_t{0})},
            {"Retries", h.value("retries", 0)}};
}

}  // namespace

json inspect_container(const Context& ctx, const ContainerInfo& c) {
    const auto& r = c.rec;
    bool running = c.status == "running";
    pid_t pid = 0;
    if (running)
        if (auto p = container_pid(ContainerDirs::for_id(ctx, r.id), container_parent(r))) pid = *p;
    std::string status = c.status == "unknown" ? "dead" : c.paused ? "paused" : c.status;
    json state{{"Status", status},
               {"Running", running},
               {"Paused", c.paused},
               {"Restarting", c.status == "restarting"},
               {"OOMKilled", false},
               {"Dead", status == "dead"},
               {"Pid", pid},
               {"ExitCode", c.exit_code ? *c.exit_code : (c.status == "exited" ? -1 : 0)},
               {"Error", c.reason},
               {"StartedAt", r.started > 0 ? time::rfc3339(r.started) : go_zero_time()},
               {"FinishedAt", c.finished > 0 ? time::rfc3339(c.finished) : go_zero_time()}};
    if (auto h = read_health(ctx, r)) {
        state["Health"] = *h;
        state["Healthcheck"] = *h;  // podman's older name for the same
    }
    json labels = json::object();
    for (const auto& [k, v] : r.labels) labels[k] = v;
    json config{{"Hostname", r.hostname},
                {"Domainname", ""},
                {"User", r.user},
                {"AttachStdin", false},
                {"AttachStdout", false},
                {"AttachStderr", false},
                {"Tty", false},
                {"OpenStdin", false},
                {"Env", r.env},
                {"Cmd", string_list_or_null(r.cmd)},
                {"Image", r.image},
                {"Volumes", nullptr},
                {"WorkingDir", r.workdir},
                {"Entrypoint", string_list_or_null(r.entrypoint)},
                {"Labels", labels},
                {"StopSignal", "SIGTERM"}};
    if (!r.healthcheck.is_null()) config["Healthcheck"] = docker_healthcheck(r.healthcheck);
    // Docker's port maps: {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}.
    json ports = json::object();
    for (const auto& p : r.ports)
        ports[fmt::format("{}/{}", p.container_port, p.proto)].push_back(
            {{"HostIp", p.host_ip}, {"HostPort", std::to_string(p.host_port)}});
    json host{{"AutoRemove", r.auto_remove},
              {"RestartPolicy", {{"Name", r.restart_policy}, {"MaximumRetryCount", r.restart_max}}},
              {"NetworkMode", r.network.empty() ? "none" : r.network},
              {"PortBindings", ports},
              {"Privileged", false},
              {"ReadonlyRootfs", false},
              {"CapAdd", nullptr},
              {"CapDrop", nullptr},
              {"Binds", nullptr}};
    if (!r.healthcheck.is_null()) host["HealthOnFailure"] = r.healthcheck.value("on_failure", "none");
    std::vector<std::string> args = r.command.size() > 1 ? std::vector<std::string>(r.command.begin() + 1, r.command.end())
                                                          : std::vector<std::string>{};
    return {{"Id", r.id},
            {"Created", time::rfc3339_ns(r.created_ns)},
            {"Path", r.command.empty() ? "" : r.command[0]},
            {"Args", args},
            {"State", state},
            {"Image", r.image_id.empty() ? "" : "sha256:" + r.image_id},
            {"ImageName", r.image},
            {"Name", r.name},
            {"RestartCount", r.restart_count},
            {"Driver", r.storage_driver},
            {"Platform", "linux"},
            {"Mounts", docker_mounts(r)},
            {"Config", config},
            {"HostConfig", host},
            {"NetworkSettings", {{"Ports", ports}, {"IPAddress", ""}, {"Networks", json::object()}}}};
}

}  // namespace bock::engine
