// pause / unpause (pause.hpp) and a container's cgroup (container_cgroup.hpp).
#include "bock/engine/pause.hpp"

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/engine/events.hpp"
#include "bock/monitor/protocol.hpp"
#include "container_cgroup.hpp"
#include "container_dirs.hpp"

namespace bock::engine {

std::optional<runtime::CgroupPaths> container_cgroup(const Context& ctx, const ContainerRecord& rec) {
    auto dirs = ContainerDirs::for_id(ctx, rec.id);
    if (auto text = fs::read_file(fs::join(dirs.bundle, monitor::kCgroupFile))) {
        auto cg = runtime::CgroupPaths::from_json(nlohmann::json::parse(*text, nullptr, false));
        if (cg.mode != runtime::CgroupMode::none) return cg;
    }
    pid_t parent = container_parent(rec);
    auto pid = container_pid(dirs, parent);
    if (!pid) return std::nullopt;
    auto layout = runtime::detect_cgroups();
    if (!layout) return std::nullopt;
    auto cg = runtime::cgroup_of_process(*layout, *pid, parent);
    if (cg.mode == runtime::CgroupMode::none) return std::nullopt;
    return cg;
}

bool container_paused(const Context& ctx, const ContainerRecord& rec) {
    // Rootless containers have a cgroup only when the monitor recorded one
    // (a delegated v2 tree); the /proc comparison is not needed for them.
    if (ctx.rootless && !fs::exists(fs::join(ContainerDirs::for_id(ctx, rec.id).bundle, monitor::kCgroupFile)))
        return false;
    auto cg = container_cgroup(ctx, rec);
    return cg && runtime::cgroup_frozen(*cg);
}

void thaw_if_paused(const Context& ctx, const ContainerInfo& c) {
    if (!c.paused) return;
    if (auto cg = container_cgroup(ctx, c.rec))
        if (auto r = runtime::cgroup_freeze(*cg, false); !r) log::warn("{}", r.error().to_string());
}

namespace {

Result<std::string> set_paused(Context& ctx, const std::string& key, bool pause) {
    auto c = BOCK_TRY(find_container(ctx, key));
    std::string short_id = c.rec.id.substr(0, 12);
    const char* verb = pause ? "pause" : "unpause";
    if (c.status != "running")
        return make_error("cannot {} container {}: it is {}", verb, short_id, c.status)
            .with_hint(pause ? "only running containers can be paused" : "only paused containers can be unpaused");
    if (pause && c.paused)
        return make_error("container {} is already paused", short_id).with_hint(fmt::format("`bock unpause {}`", key));
    if (!pause && !c.paused)
        return make_error("container {} is not paused", short_id).with_hint("`bock ps` shows its status");
    auto cg = container_cgroup(ctx, c.rec);
    if (!cg) {
        if (ctx.rootless)
            return make_error("cannot {} container {}: it has no cgroup of its own, and the freezer is a cgroup", verb,
                              short_id)
                .with_hint("rootless containers get a cgroup only on cgroup v2 with systemd delegation: boot with "
                           "systemd.unified_cgroup_hierarchy=1 (user@.service has Delegate=yes), or run bock as root");
        return make_error("cannot {} container {}: it has no cgroup of its own", verb, short_id)
            .with_hint("`bock doctor` shows the host's cgroups");
    }
    BOCK_TRY(runtime::cgroup_freeze(*cg, pause).context(fmt::format("{} container {}", verb, short_id)));
    record_event(ctx, "container", verb, c.rec.id, {{"name", c.rec.name}, {"image", c.rec.image}});
    return c.rec.id;
}

}  // namespace

Result<std::string> pause_container(Context& ctx, const std::string& key) { return set_paused(ctx, key, true); }
Result<std::string> unpause_container(Context& ctx, const std::string& key) { return set_paused(ctx, key, false); }

}  // namespace bock::engine
