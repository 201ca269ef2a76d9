// start, stop, kill, wait, the monitor's cleanup command, restart
// policies and `system restart` (lifecycle.hpp, docs/monitor.md).
#include "bock/engine/lifecycle.hpp"
#include "bock/engine/volumes.hpp"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/paths.hpp"
#include "bock/common/sys.hpp"
#include "bock/common/test_hooks.hpp"
#include "bock/common/time.hpp"
#include "bock/engine/containers.hpp"
#include "bock/monitor/protocol.hpp"
#include "bock/runtime/cgroup.hpp"
#include "bock/runtime/container.hpp"
#include "bock/runtime/state.hpp"
#include "container_cgroup.hpp"
#include "lifecycle_internal.hpp"
#include "monitor_launch.hpp"
#include "network_setup.hpp"

namespace bock::engine {
namespace {

using namespace std::chrono_literals;

// The process whose child the container's PID 1 is: its monitor, or the
// foreground bock.
pid_t parent_of(const ContainerInfo& c) { return c.rec.detached && c.rec.monitor_pid > 0 ? c.rec.monitor_pid : c.rec.owner_pid; }

// Polls a pidfd until the process ends; false on timeout.
bool wait_pidfd(int fd, int timeout_ms) {
    struct pollfd p{fd, POLLIN, 0};
    for (;;) {
        int r = ::poll(&p, 1, timeout_ms);
        if (r < 0 && errno == EINTR) continue;
        return r > 0;
    }
}

// Waits until the container's exit is a fact (its monitor wrote the exit
// file, or is gone).
void wait_exited(Context& ctx, const std::string& id, int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
        auto c = find_container(ctx, id);
        if (!c || (c->status != "running" && c->status != "created")) return;
        std::this_thread::sleep_for(10ms);
    }
}

Result<image::ImageRecord> image_of(const Context& ctx, const ContainerRecord& rec) {
    auto img = BOCK_TRY(ctx.store->lookup(rec.image_id));
    if (!img)
        return make_error("container {}: its image {} is no longer in the store", rec.id.substr(0, 12),
                          rec.image_id.substr(0, 12))
            .with_hint("pull or load the image again, or remove the container");
    return *img;
}

// An exited detached container again under a new monitor (bock start, the
// restart policy, system restart). The caller holds the lock.
Result<void> start_existing(Context& ctx, ContainerRecord rec) {
    auto dirs = ContainerDirs::for_id(ctx, rec.id);
    auto img = BOCK_TRY(image_of(ctx, rec));
    BOCK_TRY_CTX(dirs.create(), "create the container's directories");
    (void)dirs.unmount();  // a stale mount a killed cleanup may have left
    // The previous run's cgroup, when its cleanup has not run (yet): it
    // would find the new run's cgroup.json and must not.
    remove_recorded_cgroup(dirs);
    auto root = BOCK_TRY(mount_container_root(ctx, dirs, img, rec.storage_driver, rec.extra_lowers, rec.shift_uids, rec.shift_gids));
    auto text = BOCK_TRY_CTX(fs::read_file(fs::join(dirs.storage, "config.json")), "read the container's config");
    auto spec = BOCK_TRY(runtime::parse_spec(text, fs::join(dirs.storage, "config.json")));
    BOCK_TRY(fs::write_file_replace(fs::join(dirs.bundle, "config.json"), text, 0600, false));
    // A new run starts its health over ("starting"), as Docker's does.
    (void)::unlink(fs::join(dirs.storage, "health.json").c_str());
    // Its network again: a new network namespace needs a new bock-netns.
    // The previous one ended with the old init; one still closing its
    // ports (or left by a crash) is stopped first, so the ports are free.
    auto net = BOCK_TRY(ContainerNetwork::resume(ctx, rec, dirs));
    if (!kill_and_wait(rec.netns_pid, rec.netns_start, 5000))
        return make_error("container {}: its previous network helper {} did not exit after SIGKILL",
                          rec.id.substr(0, 12), rec.netns_pid);
    rec.netns_pid = 0;
    rec.netns_start = 0;
    BOCK_TRY(net.start(ctx, dirs, rec));
    BOCK_TRY(save_record(ctx, rec));  // the new helper's pid, for `bock rm -f` if we are killed
    auto launched = BOCK_TRY(launch_monitor(ctx, rec, dirs, spec, true, &net));
    net.detach();
    root.release();
    rec.state = "running";
    rec.started = time::now();
    rec.finished = 0;
    rec.exit_code.reset();
    rec.exit_reason.clear();
    rec.stop_requested = false;
    rec.restarting = false;
    rec.monitor_pid = launched.monitor;
    rec.monitor_start = launched.monitor_start;
    return save_record(ctx, rec);
}

bool should_restart(const ContainerRecord& rec, int code) {
    if (rec.stop_requested) return false;
    if (rec.restart_policy == "always" || rec.restart_policy == "unless-stopped") return true;
    if (rec.restart_policy == "on-failure")
        return code != 0 && (rec.restart_max == 0 || rec.restart_count < rec.restart_max);
    return false;
}

}  // namespace

Result<FileLock> lock_container(const Context& ctx, const std::string& id) {
    auto dirs = ContainerDirs::for_id(ctx, id);
    return FileLock::acquire(fs::join(dirs.storage, "lock"), FileLock::Mode::exclusive,
                             fmt::format("container {}", id.substr(0, 12)));
}

Result<void> add_init(runtime::Spec& spec) {
    auto path = BOCK_TRY_CTX(paths::helper_path("bock-init"), "--init");
    runtime::Mount m;
    m.destination = "/run/bock-init";
    m.type = "bind";
    m.source = path;
    m.options = {"bind", "ro", "nosuid", "nodev"};
    spec.mounts.push_back(m);
    spec.process.args.insert(spec.process.args.begin(), {"/run/bock-init", "--"});
    return ok();
}

Result<std::pair<std::string, int>> parse_restart_policy(const std::string& text) {
    std::string name = text.substr(0, text.find(':'));
    int max = 0;
    if (auto colon = text.find(':'); colon != std::string::npos) {
        if (name != "on-failure")
            return make_error("--restart {}: only on-failure takes a count", text).with_hint("--restart on-failure:3");
        char* end = nullptr;
        long v = std::strtol(text.c_str() + colon + 1, &end, 10);
        if (!end || *end || v < 0 || colon + 1 == text.size())
            return make_error("--restart {}: the count must be a number", text);
        max = static_cast<int>(v);
    }
    if (name == "" || name == "no" || name == "on-failure" || name == "always" || name == "unless-stopped")
        return std::pair<std::string, int>{name.empty() ? "no" : name, max};
    return make_error("--restart `{}`: unknown policy", text).with_hint("no, on-failure[:N], always or unless-stopped");
}

Result<int> parse_signal_name(const std::string& text) { return runtime::parse_signal(text); }

Result<uint64_t> parse_size(const std::string& text) {
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    if (!end || end == text.c_str() || v < 0) return make_error("size `{}` is not a number", text);
    std::string unit(end);
    for (auto& ch : unit) ch = static_cast<char>(std::tolower(ch));
    if (unit.ends_with("b") || unit.ends_with("i")) unit.pop_back();
    if (unit.ends_with("i")) unit.pop_back();
    double mult = unit == "" ? 1 : unit == "k" ? 1024.0 : unit == "m" ? 1048576.0 : unit == "g" ? 1073741824.0 : -1;
    if (mult < 0) return make_error("size `{}`: unknown unit", text).with_hint("e.g. 512k, 10m, 1g");
    return static_cast<uint64_t>(v * mult);
}

Result<std::string> start_container(Context& ctx, const std::string& key) {
    auto c0 = BOCK_TRY(find_container(ctx, key));
    auto lock = BOCK_TRY(lock_container(ctx, c0.rec.id));
    auto c = BOCK_TRY(find_container(ctx, c0.rec.id));
    if (c.status == "running") return c.rec.id;
    if (!c.rec.detached)
        return make_error("container {} ran in the foreground (bock run without -d); it cannot be started again",
                          c.rec.id.substr(0, 12))
            .with_hint("run a new one, e.g. with `bock run -d`");
    auto dirs = ContainerDirs::for_id(ctx, c.rec.id);
    if (c.status == "created") {
        auto text = BOCK_TRY_CTX(fs::read_file(dirs.pid_file()), "read the container's pid");
        pid_t pid = static_cast<pid_t>(std::atoi(text.c_str()));
        BOCK_TRY_CTX(runtime::start_container(fs::join(dirs.bundle, monitor::kExecFifo), pid),
                     fmt::format("start container {}", c.rec.id.substr(0, 12)));
        auto rec = BOCK_TRY(load_record(ctx, c.rec.id));
        if (rec.state == "created") {
            rec.state = "running";
            rec.started = time::now();
            BOCK_TRY(save_record(ctx, rec));
        }
        return c.rec.id;
    }
    auto rec = BOCK_TRY(load_record(ctx, c.rec.id));
    BOCK_TRY(start_existing(ctx, rec));
    return c.rec.id;
}

Result<std::string> stop_container(Context& ctx, const std::string& key, std::optional<int> timeout) {
    auto c = BOCK_TRY(find_container(ctx, key));
    if (c.rec.detached) {
        // Recorded first: whatever ends the container from now on, its
        // restart policy does not start it again.
        auto lock = BOCK_TRY(lock_container(ctx, c.rec.id));
        auto rec = BOCK_TRY(load_record(ctx, c.rec.id));
        rec.stop_requested = true;
        rec.restarting = false;  // a cleanup waiting to restart it gives up
        BOCK_TRY(save_record(ctx, rec));
        c = BOCK_TRY(find_container(ctx, c.rec.id));
    }
    if (c.status != "running" && c.status != "created") return c.rec.id;
    auto dirs = ContainerDirs::for_id(ctx, c.rec.id);
    auto pid = container_process(dirs, parent_of(c));
    if (pid) {
        auto fd = sys::pidfd_open(*pid);
        if (fd && container_process(dirs, parent_of(c)) == pid) {
            int sig = c.rec.stop_signal > 0 ? c.rec.stop_signal : SIGTERM;
            int t = timeout.value_or(c.rec.stop_timeout);
            bool gone = false;
            if (sig != SIGKILL && c.status == "running" && runtime::catches_signal(*pid, sig).value_or(true)) {
                (void)sys::pidfd_send_signal(fd->get(), sig);
                thaw_if_paused(ctx, c);  // Docker's order: the signal, then unpause
                gone = wait_pidfd(fd->get(), std::max(0, t) * 1000);
                if (!gone) log::debug("container {} outlived its {} s stop timeout", c.rec.id.substr(0, 12), t);
            }
            if (!gone) {
                (void)sys::pidfd_send_signal(fd->get(), SIGKILL);
                thaw_if_paused(ctx, c);
                (void)wait_pidfd(fd->get(), 5000);
            }
        }
    }
    wait_exited(ctx, c.rec.id, 5000);
    return c.rec.id;
}

Result<std::string> kill_container(Context& ctx, const std::string& key, int sig) {
    auto c = BOCK_TRY(find_container(ctx, key));
    if (c.status != "running" && c.status != "created")
        return make_error("container {} is not running", c.rec.id.substr(0, 12)).with_exit(125);
    auto dirs = ContainerDirs::for_id(ctx, c.rec.id);
    auto pid = container_process(dirs, parent_of(c));
    if (!pid) return make_error("container {}: its process is gone", c.rec.id.substr(0, 12));
    auto fd = BOCK_TRY(sys::pidfd_open(*pid));
    if (container_process(dirs, parent_of(c)) != pid)
        return make_error("container {}: its process is gone", c.rec.id.substr(0, 12));
    BOCK_TRY_CTX(sys::pidfd_send_signal(fd.get(), sig), fmt::format("signal container {}", c.rec.id.substr(0, 12)));
    return c.rec.id;
}

Result<int> wait_container(Context& ctx, const std::string& key) {
    auto c = BOCK_TRY(find_container(ctx, key));
    std::string id = c.rec.id;
    std::optional<int> last;
    for (;;) {
        auto now = find_container(ctx, id);
        if (!now) {
            // Removed (--rm) by its cleanup: the code it exited with.
            if (last) return *last;
            return std::move(now).error();
        }
        if (now->status != "running" && now->status != "created")
            return now->exit_code.value_or(-1);
        last = now->exit_code;
        std::this_thread::sleep_for(25ms);
    }
}

Result<void> cleanup_container(Context& ctx, const std::string& id) {
    auto dirs = ContainerDirs::for_id(ctx, id);
    if (!fs::exists(dirs.record())) return ok();  // removed already
    auto lock = BOCK_TRY(lock_container(ctx, id));
    auto loaded = load_record(ctx, id);
    if (!loaded) return ok();
    auto rec = *loaded;
    // The cleanup runs in its monitor's process. A container started again
    // meanwhile (`bock restart` is stop then start: the start may take the
    // lock before this cleanup of the stopped run does) has a new monitor
    // that owns the record, the root and the cgroup now: nothing here is
    // ours to record or undo.
    if (rec.monitor_pid > 0 && rec.monitor_pid != ::getpid() && runtime::process_alive(rec.monitor_pid, rec.monitor_start)) {
        log::debug("container {}: started again under monitor {}; the cleanup of the previous run stops here",
                   id.substr(0, 12), rec.monitor_pid);
        return ok();
    }
    test_hooks::kill_point("cleanup-locked");
    int code = -1;
    if (auto text = fs::read_file(fs::join(dirs.bundle, monitor::kExitFile))) {
        auto j = nlohmann::json::parse(*text, nullptr, false);
        if (j.is_object()) {
            code = j.value("exit_code", -1);
            rec.finished = j.value("time_ns", int64_t{0}) / 1000000000;
        }
    }
    rec.state = "exited";
    if (code >= 0) rec.exit_code = code;
    else rec.exit_reason = "its monitor left no exit status";
    if (rec.finished == 0) rec.finished = time::now();

    // The root and the cgroup go with the process; logs and the record stay.
    if (auto r = layers::recover_stale_mount(dirs.rootfs); !r) log::warn("{}", r.error().to_string());
    BOCK_TRY(dirs.unmount());
    if (auto r = layers::recover_stale_mount(dirs.rootfs); !r) log::warn("{}", r.error().to_string());
    remove_recorded_cgroup(dirs);
    // --health-on-failure=restart: whatever the policy, unless stopped.
    bool restart = should_restart(rec, code) || (rec.restart_requested && !rec.stop_requested);
    rec.restart_requested = false;
    rec.restarting = restart;
    if (restart) rec.restart_count++;
    BOCK_TRY(save_record(ctx, rec));
    test_hooks::kill_point("cleanup-recorded");
    if (!restart) {
        if (!rec.auto_remove) return ok();
        lock.release();
        BOCK_TRY(remove_container(ctx, id, false));
        remove_anonymous_volumes(ctx, id);  // --rm takes its anonymous volumes along (docs/volumes.md)
        return release_orphan_leases(ctx);
    }

    // Backoff: 100 ms, doubling with each restart, at most 10 s; without
    // the lock, so `bock stop` or `bock rm` can step in.
    lock.release();
    int shift = std::min(rec.restart_count - 1, 7);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(100 << shift, 10000)));
    lock = BOCK_TRY(lock_container(ctx, id));
    auto again = load_record(ctx, id);
    if (!again) return ok();
    if (again->state != "exited" || again->stop_requested || !again->restarting) {
        // Started by hand meanwhile, stopped, or removed.
        if (again->state == "exited" && again->restarting) {
            again->restarting = false;
            BOCK_TRY(save_record(ctx, *again));
        }
        return ok();
    }
    if (auto r = start_existing(ctx, *again); !r) {
        again->restarting = false;
        again->exit_reason = "the restart failed: " + r.error().to_string();
        (void)save_record(ctx, *again);
        return r;
    }
    return ok();
}

Result<std::vector<std::string>> restart_policy_containers(Context& ctx) {
    std::vector<std::string> started;
    for (const auto& c : BOCK_TRY(list_containers(ctx))) {
        if (!c.rec.detached || c.status == "running" || c.status == "created" || c.status == "restarting") continue;
        bool wanted = c.rec.restart_policy == "always" ||
                      (c.rec.restart_policy == "unless-stopped" && !c.rec.stop_requested);
        if (!wanted) continue;
        auto lock = BOCK_TRY(lock_container(ctx, c.rec.id));
        auto now = BOCK_TRY(find_container(ctx, c.rec.id));
        if (now.status == "running" || now.status == "created" || now.status == "restarting") continue;
        // A monitor that is still cleaning up will restart it itself.
        if (runtime::process_alive(now.rec.monitor_pid, now.rec.monitor_start)) continue;
        auto rec = BOCK_TRY(load_record(ctx, c.rec.id));
        if (auto r = start_existing(ctx, rec); !r) {
            log::report(r.error());
            continue;
        }
        started.push_back(c.rec.id);
    }
    return started;
}

}  // namespace bock::engine
