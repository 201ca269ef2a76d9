// `up`: networks and volumes made, images built, then the services in
// dependency order (each level's services at once), every container
// converged to the model: left alone when its config hash matches,
// recreated when it changed, created when missing.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <csignal>
#include <thread>

#include "bock/builder/build.hpp"
#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/engine/health.hpp"
#include "bock/engine/svcnet.hpp"
#include "bock/engine/volumes.hpp"
#include "parallel.hpp"
#include "project_internal.hpp"

namespace bock::compose {

namespace {

using Clock = std::chrono::steady_clock;

volatile std::sig_atomic_t g_interrupted = 0;
void on_interrupt(int) { g_interrupted = 1; }

Result<void> ensure_networks(engine::Context& ctx, const Project& p, const std::set<std::string>& keys) {
    auto existing = BOCK_TRY(engine::list_networks(ctx));
    for (const auto& key : keys) {
        const auto& d = p.networks.at(key);
        bool found = std::any_of(existing.begin(), existing.end(), [&](const auto& n) { return n.name == d.name; });
        if (found) continue;
        if (d.external)
            return make_error("external network `{}` not found", d.name)
                .with_hint(fmt::format("create it first: bock network create {}", d.name));
        engine::NetworkCreateRequest req;
        req.name = d.name;
        req.internal = d.internal;
        req.labels = {fmt::format("{}={}", kProjectLabel, p.name), "com.docker.compose.network=" + key};
        for (const auto& [k, v] : d.labels) req.labels.push_back(k + "=" + v);
        BOCK_TRY_CTX(engine::create_network(ctx, req), fmt::format("create network `{}`", d.name));
        progress("Network", d.name, "Created");
    }
    return {};
}

Result<void> ensure_volumes(engine::Context& ctx, const Project& p, const std::set<std::string>& keys) {
    for (const auto& key : keys) {
        const auto& d = p.volumes.at(key);
        if (engine::find_volume(ctx, d.name)) continue;
        if (d.external)
            return make_error("external volume `{}` not found", d.name)
                .with_hint(fmt::format("create it first: bock volume create {}", d.name));
        engine::VolumeCreateRequest req;
        req.name = d.name;
        req.labels = {fmt::format("{}={}", kProjectLabel, p.name), "com.docker.compose.volume=" + key};
        for (const auto& [k, v] : d.labels) req.labels.push_back(k + "=" + v);
        BOCK_TRY_CTX(engine::create_volume(ctx, req), fmt::format("create volume `{}`", d.name));
        progress("Volume", d.name, "Created");
    }
    return {};
}

Result<void> build_images(engine::Context& ctx, const Project& p, const std::vector<std::string>& services, bool always) {
    for (const auto& name : services) {
        const auto& s = p.services.at(name);
        if (!s.build) continue;
        std::string tag = s.image_name(p.name);
        if (!always && BOCK_TRY(ctx.store->lookup(tag))) continue;
        builder::BuildRequest req;
        req.context = s.build->context;
        if (!s.build->dockerfile.empty()) req.file = fs::join(s.build->context, s.build->dockerfile);
        req.target = s.build->target;
        req.build_args = s.build->args;
        req.tags = {tag};
        req.progress = [&](std::string_view line) { fmt::print(stderr, "[{}] {}\n", name, line); };
        BOCK_TRY_CTX(builder::build(ctx, req), fmt::format("service `{}`: build", name));
        progress("Image", tag, "Built");
    }
    return {};
}

// Waits until a dependency's containers meet the condition.
Result<void> wait_dependency(engine::Context& ctx, const Project& p, const std::string& service, const std::string& dep,
                             const DependsOn& d) {
    if (d.condition == "service_started") return {};
    auto containers = BOCK_TRY(service_containers(ctx, p, {dep}));
    for (const auto& c0 : containers) {
        const std::string& cname = c0.rec.name;
        if (d.condition == "service_completed_successfully") {
            int code = BOCK_TRY(engine::wait_container(ctx, c0.rec.id));
            if (code != 0)
                return make_error("service `{}` cannot start: its dependency `{}` (container {}) did not complete "
                                  "successfully: exit code {}",
                                  service, dep, cname, code)
                    .with_hint(fmt::format("see `bockrose logs {}`", dep));
            progress("Container", cname, "Exited");
            continue;
        }
        // service_healthy
        if (c0.rec.healthcheck.is_null())
            return make_error("service `{}` cannot start: its dependency `{}` (container {}) has no health check", service,
                              dep, cname)
                .with_hint(fmt::format("give `{}` a healthcheck, or use condition: service_started", dep));
        progress("Container", cname, "Waiting");
        for (;;) {
            auto c = BOCK_TRY(engine::find_container(ctx, c0.rec.id));
            if (c.status != "running" && c.status != "restarting")
                return make_error("service `{}` cannot start: its dependency `{}` (container {}) exited before it was "
                                  "healthy (exit code {})",
                                  service, dep, cname, c.exit_code.value_or(-1))
                    .with_hint(fmt::format("see `bockrose logs {}`", dep));
            auto h = engine::read_health(ctx, c.rec);
            std::string status = h ? h->value("Status", "") : "";
            if (status == "healthy") break;
            if (status == "unhealthy")
                return make_error("service `{}` cannot start: its dependency `{}` (container {}) is unhealthy", service,
                                  dep, cname)
                    .with_hint(fmt::format("see `bock inspect {}` (State.Health) and `bockrose logs {}`", cname, dep));
            if (g_interrupted) return make_error("interrupted");
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        progress("Container", cname, "Healthy");
    }
    return {};
}

Result<void> stop_and_remove(engine::Context& ctx, const engine::ContainerInfo& c) {
    if (c.status == "running" || c.status == "restarting")
        BOCK_TRY_CTX(engine::stop_container(ctx, c.rec.id, std::nullopt), fmt::format("stop {}", c.rec.name));
    BOCK_TRY_CTX(remove_container(ctx, c.rec.id, true), fmt::format("remove {}", c.rec.name));
    return {};
}

Result<void> create_one(engine::Context& ctx, const Project& p, const Service& s, int number, bool start = true) {
    std::vector<std::string> warnings;
    auto req = BOCK_TRY(run_request(p, s, number, warnings));
    if (number == 1)
        for (const auto& w : warnings) log::warn("{}", w);
    auto name = *req.name;
    BOCK_TRY_CTX(engine::create_container(ctx, req, start),
                 fmt::format("service `{}`: {} container {}", s.name, start ? "start" : "create", name));
    progress("Container", name, start ? "Started" : "Created");
    return {};
}

// One service: its dependencies' conditions met, then its containers.
Result<void> converge(engine::Context& ctx, const Project& p, const Service& s, const UpOptions& opts) {
    if (!opts.no_deps && !opts.no_start)
        for (const auto& [dep, d] : s.depends_on)
            if (p.services.contains(dep)) BOCK_TRY(wait_dependency(ctx, p, s.name, dep, d));
    auto existing = BOCK_TRY(service_containers(ctx, p, {s.name}));
    std::string hash = s.config_hash();
    for (int n = 1; n <= s.replicas; ++n) {
        auto it = std::find_if(existing.begin(), existing.end(),
                               [&](const auto& c) { return label_of(c, kNumberLabel) == std::to_string(n); });
        if (it == existing.end()) {
            BOCK_TRY(create_one(ctx, p, s, n, !opts.no_start));
            continue;
        }
        bool same = label_of(*it, kHashLabel) == hash;
        if ((!same || opts.force_recreate) && !opts.no_recreate) {
            BOCK_TRY(stop_and_remove(ctx, *it));
            progress("Container", it->rec.name, "Recreate");
            BOCK_TRY(create_one(ctx, p, s, n, !opts.no_start));
            continue;
        }
        if (opts.no_start) {
            progress("Container", it->rec.name, "Exists");
            continue;
        }
        if (it->status == "running" || it->status == "restarting") {
            progress("Container", it->rec.name, "Running");
        } else {
            BOCK_TRY_CTX(engine::start_container(ctx, it->rec.id), fmt::format("start {}", it->rec.name));
            progress("Container", it->rec.name, "Started");
        }
    }
    // Scaled down: the highest numbers go.
    for (const auto& c : existing)
        if (std::atoi(label_of(c, kNumberLabel).c_str()) > s.replicas) {
            BOCK_TRY(stop_and_remove(ctx, c));
            progress("Container", c.rec.name, "Removed");
        }
    return {};
}

// Is a one-shot's successful exit what a dependant waits for?
bool completes(const Project& p, const std::string& service) {
    for (const auto& [n, s] : p.services)
        if (auto it = s.depends_on.find(service); it != s.depends_on.end() && it->second.condition == "service_completed_successfully")
            return true;
    return false;
}

// --wait: every container running (and healthy when it has a check), or
// a one-shot exited 0.
Result<void> wait_ready(engine::Context& ctx, const Project& p, const std::vector<std::string>& services, int timeout) {
    auto deadline = Clock::now() + std::chrono::seconds(timeout > 0 ? timeout : 1'000'000);
    for (;;) {
        std::vector<std::string> pending;
        for (const auto& c : BOCK_TRY(service_containers(ctx, p, services))) {
            std::string svc = label_of(c, kServiceLabel);
            if (c.status == "exited" || c.status == "created") {
                if (c.exit_code == 0 && completes(p, svc)) continue;
                return make_error("service `{}`: container {} exited (exit code {})", svc, c.rec.name, c.exit_code.value_or(-1))
                    .with_hint(fmt::format("see `bockrose logs {}`", svc));
            }
            if (c.rec.healthcheck.is_null()) continue;
            auto h = engine::read_health(ctx, c.rec);
            std::string status = h ? h->value("Status", "") : "";
            if (status == "unhealthy")
                return make_error("service `{}`: container {} is unhealthy", svc, c.rec.name)
                    .with_hint(fmt::format("see `bock inspect {}` (State.Health) and `bockrose logs {}`", c.rec.name, svc));
            if (status != "healthy") pending.push_back(svc);
        }
        if (pending.empty()) return {};
        if (Clock::now() > deadline)
            return make_error("--wait: not healthy after {}s: service{} {}", timeout, pending.size() > 1 ? "s" : "",
                              fmt::join(pending, ", "))
                .with_hint("raise --wait-timeout, or see `bockrose ps` and `bockrose logs`");
        if (g_interrupted) return make_error("interrupted");
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

}  // namespace

Result<void> prepare_resources(engine::Context& ctx, const Project& p, const std::vector<std::string>& services, bool build) {
    std::set<std::string> nets, vols;
    for (const auto& name : services) {
        const auto& s = p.services.at(name);
        for (const auto& [k, a] : s.networks) nets.insert(k);
        for (const auto& m : s.volumes)
            if (m.type == "volume" && !m.source.empty()) vols.insert(m.source);
    }
    BOCK_TRY(build_images(ctx, p, services, build));
    BOCK_TRY(ensure_networks(ctx, p, nets));
    BOCK_TRY(ensure_volumes(ctx, p, vols));
    return {};
}

Result<int> up(engine::Context& ctx, const Project& p, const UpOptions& opts) {
    std::vector<std::vector<std::string>> levels;
    if (opts.no_deps) {
        for (const auto& s : opts.services)
            if (!p.services.contains(s)) return make_error("no such service: {}", s);
        levels.push_back(opts.services.empty() ? std::vector<std::string>{} : opts.services);
        if (opts.services.empty())
            for (const auto& [k, s] : p.services) levels[0].push_back(k);
    } else {
        levels = BOCK_TRY(start_levels(p, opts.services));
    }
    if (!opts.exit_code_from.empty() && !p.services.contains(opts.exit_code_from))
        return make_error("--exit-code-from {}: no such service", opts.exit_code_from);
    std::vector<std::string> selected;
    for (const auto& l : levels) selected.insert(selected.end(), l.begin(), l.end());

    // Orphans: containers of the project whose service is gone.
    for (const auto& c : BOCK_TRY(project_containers(ctx, p.name))) {
        std::string svc = label_of(c, kServiceLabel);
        if (p.services.contains(svc)) continue;
        if (opts.remove_orphans) {
            BOCK_TRY(stop_and_remove(ctx, c));
            progress("Container", c.rec.name, "Removed");
        } else {
            log::warn("found orphan container {} (service `{}` is not in the project)", c.rec.name, svc);
            log::notice("remove it with `bockrose up --remove-orphans` or `bockrose down --remove-orphans`");
        }
    }
    BOCK_TRY(prepare_resources(ctx, p, selected, opts.build));

    struct sigaction sa = {}, old_int = {}, old_term = {};
    sa.sa_handler = on_interrupt;
    ::sigaction(SIGINT, &sa, &old_int);
    ::sigaction(SIGTERM, &sa, &old_term);
    g_interrupted = 0;
    for (const auto& level : levels) {
        std::vector<Job> jobs;
        for (const auto& name : level)
            jobs.push_back({name, [&, name] { return converge(ctx, p, p.services.at(name), opts); }});
        auto failed = run_parallel(jobs);
        if (!failed.empty())
            return make_error("up: service{} {} failed to start", failed.size() > 1 ? "s" : "", fmt::join(failed, ", "))
                .with_exit(1);
        if (g_interrupted) return make_error("interrupted").with_exit(130);
    }
    if (opts.no_start) return 0;
    if (opts.wait)
        if (auto r = wait_ready(ctx, p, selected, opts.wait_timeout); !r) return std::move(r.error().with_exit(1));
    if (opts.detach) return 0;

    // Attached: the logs until every container stopped, or Ctrl-C (then
    // the project is stopped, as docker compose does).
    std::vector<std::pair<std::string, std::string>> targets;
    for (const auto& c : BOCK_TRY(service_containers(ctx, p, selected))) targets.emplace_back(c.rec.id, c.rec.name);
    engine::LogsOptions lo;
    lo.follow = true;
    auto first = BOCK_TRY(follow_logs(ctx, targets, lo, &g_interrupted, opts.abort_on_container_exit));
    int rc = 0;
    if (g_interrupted || opts.abort_on_container_exit) {
        if (g_interrupted) fmt::print(stderr, "Gracefully stopping... (press Ctrl+C again to force)\n");
        ::sigaction(SIGINT, &old_int, nullptr);
        if (!first.empty()) {
            auto c = engine::find_container(ctx, first);
            if (c) rc = c->exit_code.value_or(0);
        }
        BOCK_TRY(stop(ctx, p, selected, std::nullopt));
        if (!opts.exit_code_from.empty()) {
            auto cs = BOCK_TRY(service_containers(ctx, p, {opts.exit_code_from}));
            rc = cs.empty() ? 0 : cs[0].exit_code.value_or(0);
        }
        if (g_interrupted) rc = 130;
    }
    return rc;
}

}  // namespace bock::compose
