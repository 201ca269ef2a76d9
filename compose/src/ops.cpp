// The commands that map one to one onto engine operations, over the
// selected services' containers or images: pause/unpause, top, port,
// images, wait, pull, push, events (docs/compose.md).
#include <algorithm>
#include <set>

#include "bock/common/log.hpp"
#include "bock/engine/events.hpp"
#include "bock/engine/images.hpp"
#include "bock/engine/network.hpp"
#include "bock/engine/pause.hpp"
#include "bock/engine/top.hpp"
#include "parallel.hpp"
#include "project_internal.hpp"

namespace bock::compose {

namespace {

Result<void> check_services(const Project& p, const std::vector<std::string>& services) {
    for (const auto& s : services)
        if (!p.services.contains(s)) return make_error("no such service: {}", s).with_hint("`bockrose config --services` lists them");
    return {};
}

// Columns padded to their widest cell, two spaces apart.
void print_table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> width;
    for (const auto& r : rows)
        for (size_t i = 0; i < r.size(); ++i) {
            if (width.size() <= i) width.push_back(0);
            width[i] = std::max(width[i], r[i].size());
        }
    for (const auto& r : rows) {
        std::string line;
        for (size_t i = 0; i < r.size(); ++i)
            line += i + 1 == r.size() ? r[i] : r[i] + std::string(width[i] - r[i].size() + 2, ' ');
        fmt::print("{}\n", line);
    }
}

// The images of the selected services with an `image:` (built-only
// services have none to pull or push), each once.
std::vector<std::pair<std::string, std::string>> named_images(const Project& p, const std::vector<std::string>& services) {
    std::vector<std::pair<std::string, std::string>> out;  // service, image
    std::set<std::string> seen;
    for (const auto& [name, s] : p.services) {
        if (!services.empty() && std::find(services.begin(), services.end(), name) == services.end()) continue;
        if (s.image.empty() || !seen.insert(s.image).second) continue;
        out.emplace_back(name, s.image);
    }
    return out;
}

}  // namespace

Result<void> pause(engine::Context& ctx, const Project& p, const std::vector<std::string>& services, bool freeze) {
    BOCK_TRY(check_services(p, services));
    std::vector<std::string> failed;
    for (const auto& c : BOCK_TRY(service_containers(ctx, p, services))) {
        if (c.status != "running" || c.paused == freeze) continue;
        auto r = freeze ? engine::pause_container(ctx, c.rec.id) : engine::unpause_container(ctx, c.rec.id);
        if (!r) {
            log::error("{}: {}", c.rec.name, r.error().message());
            if (!r.error().hint().empty()) log::notice(r.error().hint());
            failed.push_back(c.rec.name);
            continue;
        }
        progress("Container", c.rec.name, freeze ? "Paused" : "Unpaused");
    }
    if (!failed.empty()) return make_error("{} failed for {}", freeze ? "pause" : "unpause", fmt::join(failed, ", ")).with_exit(1);
    return {};
}

Result<void> print_top(engine::Context& ctx, const Project& p, const std::vector<std::string>& services) {
    BOCK_TRY(check_services(p, services));
    bool first = true;
    for (const auto& c : BOCK_TRY(service_containers(ctx, p, services))) {
        if (c.status != "running") continue;
        auto t = BOCK_TRY_CTX(engine::top_container(ctx, c.rec.id, {}), c.rec.name);
        fmt::print("{}{}\n", first ? "" : "\n", c.rec.name);
        first = false;
        std::vector<std::vector<std::string>> rows{t.headers};
        rows.insert(rows.end(), t.rows.begin(), t.rows.end());
        print_table(rows);
    }
    return {};
}

Result<void> print_port(engine::Context& ctx, const Project& p, const std::string& service, const std::string& private_port,
                        const std::string& protocol, int index) {
    BOCK_TRY(check_services(p, {service}));
    auto name = container_name(p, p.services.at(service), index);
    auto c = BOCK_TRY_CTX(engine::find_container(ctx, name), fmt::format("service `{}`", service));
    for (const auto& m : c.rec.ports) {
        // port_text: "80/tcp -> 0.0.0.0:8080"
        auto text = engine::port_text(m);
        if (text.starts_with(private_port + "/" + protocol + " -> ")) {
            fmt::print("{}\n", text.substr(text.find(" -> ") + 4));
            return {};
        }
    }
    return make_error("service `{}`: port {}/{} is not published", service, private_port, protocol)
        .with_hint(fmt::format("publish it under `ports:` (e.g. \"8080:{}\")", private_port));
}

Result<void> print_images(engine::Context& ctx, const Project& p, const std::vector<std::string>& services) {
    BOCK_TRY(check_services(p, services));
    auto images = BOCK_TRY(engine::list_images(ctx));
    std::vector<std::vector<std::string>> rows{{"CONTAINER", "REPOSITORY", "TAG", "IMAGE ID", "SIZE"}};
    for (const auto& c : BOCK_TRY(service_containers(ctx, p, services))) {
        // The name the container was created from (an image may have several).
        std::string repo = c.rec.image, tag = "<none>", size;
        if (auto colon = repo.rfind(':'); colon != std::string::npos && repo.find('/', colon) == std::string::npos) {
            tag = repo.substr(colon + 1);
            repo.resize(colon);
        }
        auto it = std::find_if(images.begin(), images.end(), [&](const auto& i) { return i.config.hex == c.rec.image_id; });
        if (it != images.end()) size = fmt::format("{:.1f}MB", static_cast<double>(it->size) / 1e6);
        rows.push_back({c.rec.name, repo, tag, c.rec.image_id.substr(0, 12), size});
    }
    print_table(rows);
    return {};
}

Result<int> wait(engine::Context& ctx, const Project& p, const std::vector<std::string>& services) {
    BOCK_TRY(check_services(p, services));
    int rc = 0;
    for (const auto& c : BOCK_TRY(service_containers(ctx, p, services))) {
        int code = BOCK_TRY_CTX(engine::wait_container(ctx, c.rec.id), c.rec.name);
        fmt::print("{}\n", code);
        std::fflush(stdout);
        if (rc == 0) rc = code;
    }
    return rc;
}

Result<void> pull(engine::Context& ctx, const Project& p, const std::vector<std::string>& services, bool ignore_failures) {
    BOCK_TRY(check_services(p, services));
    std::vector<Job> jobs;
    for (const auto& [svc, image] : named_images(p, services))
        jobs.push_back({svc, [&ctx, svc, image]() -> Result<void> {
                            progress("Image", image, "Pulling");
                            engine::PullRequest req;
                            req.name = image;
                            BOCK_TRY_CTX(engine::pull_image(ctx, req), fmt::format("service `{}`: pull {}", svc, image));
                            progress("Image", image, "Pulled");
                            return {};
                        }});
    auto failed = run_parallel(jobs);
    if (!failed.empty() && !ignore_failures)
        return make_error("pull failed for service{} {}", failed.size() > 1 ? "s" : "", fmt::join(failed, ", "))
            .with_hint("see the errors above; --ignore-pull-failures goes on")
            .with_exit(1);
    return {};
}

Result<void> push(engine::Context& ctx, const Project& p, const std::vector<std::string>& services) {
    BOCK_TRY(check_services(p, services));
    for (const auto& [svc, image] : named_images(p, services)) {
        engine::PushRequest req;
        req.image = image;
        progress("Image", image, "Pushing");
        BOCK_TRY_CTX(engine::push_image(ctx, req), fmt::format("service `{}`: push {}", svc, image));
        progress("Image", image, "Pushed");
    }
    return {};
}

Result<void> print_events(engine::Context& ctx, const Project& p, bool json, bool follow) {
    // A project's container: one whose name is PROJECT-..., or whose id
    // was seen with such a name (a `remove` event carries no name).
    std::set<std::string> ids;
    for (const auto& c : BOCK_TRY(project_containers(ctx, p.name))) ids.insert(c.rec.id);
    auto mine = [&](const engine::Event& e) {
        if (e.type != "container") return false;
        auto n = e.attrs.find("name");
        if (n != e.attrs.end() && n->second.starts_with(p.name + "-")) ids.insert(e.id);
        return ids.contains(e.id);
    };
    auto emit = [&](const engine::Event& e) {
        if (!mine(e)) return true;
        if (json) {
            nlohmann::json j = {{"time", e.time_ns}, {"type", e.type}, {"action", e.action}, {"id", e.id},
                                {"attributes", e.attrs}};
            if (auto n = e.attrs.find("name"); n != e.attrs.end()) j["container"] = n->second;
            fmt::print("{}\n", j.dump());
        } else {
            std::string attrs;
            for (const auto& [k, v] : e.attrs) attrs += (attrs.empty() ? "" : ", ") + k + "=" + v;
            fmt::print("{} {} {} {}{}\n", e.time_ns, e.type, e.action, e.id, attrs.empty() ? "" : " (" + attrs + ")");
        }
        std::fflush(stdout);
        return true;
    };
    engine::EventQuery q;
    if (follow) return engine::follow_events(ctx, q, emit);
    for (const auto& e : BOCK_TRY(engine::read_events(ctx, q))) emit(e);
    return {};
}

}  // namespace bock::compose
