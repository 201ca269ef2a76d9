// `ps` and `logs`, and the log follower `up` attaches with: each
// container's log read by a child through a pipe, lines prefixed with the
// container's name.
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>
#include <algorithm>
#include <cstdio>

#include "bock/common/log.hpp"
#include "bock/common/pid.hpp"
#include "bock/common/sys.hpp"
#include "bock/engine/health.hpp"
#include "bock/engine/ps.hpp"
#include "project_internal.hpp"

namespace bock::compose {

std::string label_of(const engine::ContainerInfo& c, const std::string& key) {
    auto it = c.rec.labels.find(key);
    return it == c.rec.labels.end() ? "" : it->second;
}

Result<std::vector<engine::ContainerInfo>> service_containers(const engine::Context& ctx, const Project& p,
                                                             const std::vector<std::string>& services) {
    std::vector<engine::ContainerInfo> out;
    for (auto& c : BOCK_TRY(project_containers(ctx, p.name))) {
        if (label_of(c, kOneoffLabel) == "True") continue;
        std::string svc = label_of(c, kServiceLabel);
        if (!services.empty() && std::find(services.begin(), services.end(), svc) == services.end()) continue;
        out.push_back(std::move(c));
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        auto sa = label_of(a, kServiceLabel), sb = label_of(b, kServiceLabel);
        if (sa != sb) return sa < sb;
        return std::atoi(label_of(a, kNumberLabel).c_str()) < std::atoi(label_of(b, kNumberLabel).c_str());
    });
    return out;
}

Result<std::string> remove_container(engine::Context& ctx, const std::string& id, bool force) {
    for (int attempt = 1;; ++attempt) {
        auto r = engine::remove_container(ctx, id, force);
        if (r || attempt == 5 || r.error().code() == ENOENT) return r;
        log::debug("remove {}: {} (trying again)", id.substr(0, 12), r.error().message());
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
}

void progress(const std::string& kind, const std::string& name, const std::string& what) {
    fmt::print(stderr, " {} {}  {}\n", kind, name, what);
    std::fflush(stderr);
}

Result<std::string> follow_logs(engine::Context& ctx, const std::vector<std::pair<std::string, std::string>>& containers,
                                const engine::LogsOptions& opts, volatile std::sig_atomic_t* interrupted, bool first_exit) {
    struct Stream {
        std::string id, prefix;
        Fd fd;
        Pid child;
        std::string partial;
    };
    size_t width = 0;
    for (const auto& [id, name] : containers) width = std::max(width, name.size());
    bool colour = ::isatty(1);
    static const int kColours[] = {36, 33, 32, 35, 34, 31};
    std::vector<Stream> streams;
    std::fflush(stdout);
    std::fflush(stderr);
    for (size_t i = 0; i < containers.size(); ++i) {
        auto [id, name] = containers[i];
        auto pipe = BOCK_TRY(sys::pipe());
        pid_t pid = ::fork();
        if (pid < 0) return errno_error("fork a log reader");
        if (pid == 0) {
            ::dup2(pipe.second.get(), 1);
            ::dup2(pipe.second.get(), 2);
            auto r = engine::print_logs(ctx, id, opts);
            std::fflush(stdout);
            if (!r) log::report(r.error());
            ::_exit(r ? 0 : 1);
        }
        std::string pad = name + std::string(width - name.size(), ' ') + "  | ";
        if (colour) pad = fmt::format("\033[{}m{}\033[0m", kColours[i % 6], pad);
        streams.push_back({id, pad, std::move(pipe.first), Pid(pid), ""});
    }
    auto flush_line = [](Stream& s, std::string_view line) {
        fmt::print("{}{}\n", s.prefix, line);
    };
    size_t open = streams.size();
    while (open > 0) {
        if (interrupted && *interrupted) return std::string();
        std::vector<pollfd> fds;
        std::vector<size_t> which;
        for (size_t i = 0; i < streams.size(); ++i)
            if (streams[i].fd.valid()) {
                fds.push_back({streams[i].fd.get(), POLLIN, 0});
                which.push_back(i);
            }
        int n = ::poll(fds.data(), fds.size(), 500);
        if (n < 0 && errno != EINTR) return errno_error("poll the logs");
        if (n <= 0) continue;
        for (size_t k = 0; k < fds.size(); ++k) {
            if (!fds[k].revents) continue;
            auto& s = streams[which[k]];
            char buf[8192];
            ssize_t got = ::read(s.fd.get(), buf, sizeof buf);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) {
                if (!s.partial.empty()) flush_line(s, s.partial);
                s.partial.clear();
                s.fd = Fd();
                (void)s.child.wait();
                --open;
                if (first_exit) {
                    std::fflush(stdout);
                    return s.id;
                }
                continue;
            }
            s.partial.append(buf, static_cast<size_t>(got));
            size_t nl;
            while ((nl = s.partial.find('\n')) != std::string::npos) {
                flush_line(s, std::string_view(s.partial).substr(0, nl));
                s.partial.erase(0, nl + 1);
            }
        }
        std::fflush(stdout);
    }
    return std::string();
}

Result<void> print_logs(engine::Context& ctx, const Project& p, const std::vector<std::string>& services,
                        const engine::LogsOptions& opts) {
    for (const auto& s : services)
        if (!p.services.contains(s)) return make_error("no such service: {}", s).with_hint("`bockrose config --services` lists them");
    std::vector<std::pair<std::string, std::string>> targets;
    for (const auto& c : BOCK_TRY(service_containers(ctx, p, services))) targets.emplace_back(c.rec.id, c.rec.name);
    BOCK_TRY(follow_logs(ctx, targets, opts, nullptr, false));
    return {};
}

Result<void> print_ps(engine::Context& ctx, const Project& p, const std::vector<std::string>& services, bool all, bool json) {
    auto containers = BOCK_TRY(service_containers(ctx, p, services));
    if (json) {
        auto arr = nlohmann::json::array();
        for (const auto& c : containers) {
            if (!all && engine::state_name(c) != "running" && engine::state_name(c) != "paused") continue;
            auto h = engine::read_health(ctx, c.rec);
            auto publishers = nlohmann::json::array();
            for (const auto& pm : c.rec.ports)
                publishers.push_back({{"URL", pm.host_ip}, {"TargetPort", pm.container_port},
                                      {"PublishedPort", pm.host_port}, {"Protocol", pm.proto}});
            arr.push_back({{"ID", c.rec.id},
                           {"Name", c.rec.name},
                           {"Names", {c.rec.name}},
                           {"Image", c.rec.image},
                           {"Command", fmt::format("{}", fmt::join(c.rec.command, " "))},
                           {"Project", p.name},
                           {"Service", label_of(c, kServiceLabel)},
                           {"State", engine::state_name(c)},
                           {"Status", engine::status_text(ctx, c)},
                           {"Health", h ? h->value("Status", "") : ""},
                           {"ExitCode", c.exit_code.value_or(0)},
                           {"Publishers", publishers},
                           {"Labels", c.rec.labels}});
        }
        fmt::print("{}\n", arr.dump(2));
        return {};
    }
    fmt::print("{:<28} {:<20} {:<12} {:<30}\n", "NAME", "IMAGE", "SERVICE", "STATUS");
    for (const auto& c : containers) {
        if (!all && engine::state_name(c) != "running" && engine::state_name(c) != "paused") continue;
        fmt::print("{:<28} {:<20} {:<12} {:<30}\n", c.rec.name, c.rec.image, label_of(c, kServiceLabel),
                   engine::status_text(ctx, c));
    }
    return {};
}

}  // namespace bock::compose
