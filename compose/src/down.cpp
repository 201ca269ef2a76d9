// `down`, `stop`, `start`, `kill`, `rm`: the project's containers in
// reverse dependency order, each level's at once (each container with its
// own stop signal and grace period), then the networks and (-v) volumes.
#include <algorithm>
#include <set>

#include "bock/common/log.hpp"
#include "bock/engine/images.hpp"
#include "bock/engine/svcnet.hpp"
#include "bock/engine/volumes.hpp"
#include "parallel.hpp"
#include "project_internal.hpp"

namespace bock::compose {

namespace {

// The selected services' containers by stop level: dependants first. A
// service no longer in the project (an orphan) goes first.
Result<std::vector<std::vector<engine::ContainerInfo>>> stop_levels(const engine::Context& ctx, const Project& p,
                                                                    const std::vector<std::string>& services,
                                                                    bool orphans) {
    std::vector<std::string> known;
    for (const auto& s : services)
        if (p.services.contains(s)) known.push_back(s);
        else return make_error("no such service: {}", s).with_hint("`bockrose config --services` lists them");
    auto levels = BOCK_TRY(start_levels(p, known));
    std::reverse(levels.begin(), levels.end());
    std::set<std::string> wanted(services.begin(), services.end());
    std::vector<std::vector<engine::ContainerInfo>> out(1);
    auto all = BOCK_TRY(project_containers(ctx, p.name));
    for (const auto& c : all) {
        std::string svc = label_of(c, kServiceLabel);
        if (p.services.contains(svc)) continue;
        if (orphans) out[0].push_back(c);
        else if (services.empty()) log::warn("found orphan container {}: left (use --remove-orphans)", c.rec.name);
    }
    for (const auto& level : levels) {
        std::vector<engine::ContainerInfo> l;
        for (const auto& name : level) {
            // start_levels adds dependencies; stopping names only the asked ones.
            if (!wanted.empty() && !wanted.contains(name)) continue;
            for (const auto& c : all)
                if (label_of(c, kServiceLabel) == name) l.push_back(c);
        }
        out.push_back(std::move(l));
    }
    return out;
}

bool running(const engine::ContainerInfo& c) { return c.status == "running" || c.status == "restarting"; }

Result<void> each_level(const std::vector<std::vector<engine::ContainerInfo>>& levels,
                        const std::function<Result<void>(const engine::ContainerInfo&)>& fn) {
    std::vector<std::string> failed;
    for (const auto& level : levels) {
        std::vector<Job> jobs;
        for (const auto& c : level) jobs.push_back({c.rec.name, [&fn, c] { return fn(c); }});
        if (jobs.empty()) continue;
        auto f = run_parallel(jobs);
        failed.insert(failed.end(), f.begin(), f.end());
    }
    if (!failed.empty()) return make_error("failed for {}", fmt::join(failed, ", ")).with_exit(1);
    return {};
}

}  // namespace

Result<void> stop(engine::Context& ctx, const Project& p, const std::vector<std::string>& services, std::optional<int> timeout) {
    auto levels = BOCK_TRY(stop_levels(ctx, p, services, false));
    return each_level(levels, [&](const engine::ContainerInfo& c) -> Result<void> {
        if (!running(c)) return {};
        BOCK_TRY(engine::stop_container(ctx, c.rec.id, timeout));
        progress("Container", c.rec.name, "Stopped");
        return {};
    });
}

Result<void> kill(engine::Context& ctx, const Project& p, const std::vector<std::string>& services, int sig) {
    auto levels = BOCK_TRY(stop_levels(ctx, p, services, false));
    return each_level(levels, [&](const engine::ContainerInfo& c) -> Result<void> {
        if (!running(c)) return {};
        BOCK_TRY(engine::kill_container(ctx, c.rec.id, sig));
        progress("Container", c.rec.name, "Killed");
        return {};
    });
}

Result<void> start(engine::Context& ctx, const Project& p, const std::vector<std::string>& services) {
    auto levels = BOCK_TRY(start_levels(p, services));
    for (const auto& level : levels)
        for (const auto& name : level)
            for (const auto& c : BOCK_TRY(service_containers(ctx, p, {name}))) {
                if (running(c)) continue;
                BOCK_TRY(engine::start_container(ctx, c.rec.id));
                progress("Container", c.rec.name, "Started");
            }
    return {};
}

Result<void> remove(engine::Context& ctx, const Project& p, const std::vector<std::string>& services, bool force) {
    auto levels = BOCK_TRY(stop_levels(ctx, p, services, false));
    return each_level(levels, [&](const engine::ContainerInfo& c) -> Result<void> {
        if (running(c) && !force) {
            log::notice(fmt::format("{} is running: left (stop it first, or rm -s / -f)", c.rec.name));
            return {};
        }
        BOCK_TRY(remove_container(ctx, c.rec.id, force));
        progress("Container", c.rec.name, "Removed");
        return {};
    });
}

Result<void> down(engine::Context& ctx, const Project& p, const DownOptions& opts) {
    auto levels = BOCK_TRY(stop_levels(ctx, p, {}, opts.remove_orphans));
    BOCK_TRY(each_level(levels, [&](const engine::ContainerInfo& c) -> Result<void> {
        if (running(c)) {
            BOCK_TRY(engine::stop_container(ctx, c.rec.id, opts.timeout));
            progress("Container", c.rec.name, "Stopped");
        }
        BOCK_TRY(remove_container(ctx, c.rec.id, true));
        if (opts.volumes) engine::remove_anonymous_volumes(ctx, c.rec.id);
        progress("Container", c.rec.name, "Removed");
        return {};
    }));
    auto nets = BOCK_TRY(engine::list_networks(ctx));
    for (const auto& [key, d] : p.networks) {
        if (d.external) continue;
        if (std::none_of(nets.begin(), nets.end(), [&](const auto& n) { return n.name == d.name; })) continue;
        BOCK_TRY_CTX(engine::remove_network(ctx, d.name), fmt::format("remove network `{}`", d.name));
        progress("Network", d.name, "Removed");
    }
    if (!opts.rmi.empty()) {
        std::set<std::string> done;
        for (const auto& [name, s] : p.services) {
            if (opts.rmi == "local" && !s.image.empty()) continue;
            auto image = s.image_name(p.name);
            if (!done.insert(image).second) continue;
            auto found = engine::inspect_image(ctx, image);
            if (!found || !*found) continue;
            if (auto r = engine::remove_image(ctx, image, false); !r) {
                log::warn("remove image {}: {}", image, r.error().message());  // in use by another container
                continue;
            }
            progress("Image", image, "Removed");
        }
    }
    if (opts.volumes)
        for (const auto& [key, d] : p.volumes) {
            if (d.external || !engine::find_volume(ctx, d.name)) continue;
            BOCK_TRY_CTX(engine::remove_volume(ctx, d.name, false), fmt::format("remove volume `{}`", d.name));
            progress("Volume", d.name, "Removed");
        }
    return {};
}

}  // namespace bock::compose
