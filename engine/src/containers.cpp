// Listing, finding and removing containers (containers.hpp).
#include "bock/engine/containers.hpp"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/sys.hpp"
#include "bock/engine/events.hpp"
#include "bock/layers/overlay.hpp"
#include "bock/runtime/state.hpp"
#include "bock/monitor/protocol.hpp"
#include "bock/runtime/cgroup.hpp"
#include "container_cgroup.hpp"
#include "container_dirs.hpp"
#include "lifecycle_internal.hpp"
#include "network_setup.hpp"
#include "running.hpp"
#include "bock/engine/svcnet.hpp"

namespace bock::engine {
namespace {

bool is_container_id(std::string_view s) {
    if (s.size() != 64) return false;
    return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Result<std::vector<std::string>> container_ids(const Context& ctx) {
    std::string dir = fs::join(ctx.store_root, "containers");
    if (!fs::exists(dir)) return std::vector<std::string>{};
    auto names = BOCK_TRY_CTX(fs::list_dir(dir), "list containers");
    std::erase_if(names, [](const std::string& n) { return !is_container_id(n); });
    return names;
}

}  // namespace

bool kill_and_wait(pid_t pid, uint64_t start, int timeout_ms) {
    if (pid <= 0) return true;
    auto st = runtime::process_start_time(pid);
    if (!st || (start && *st != start)) return true;
    auto fd = sys::pidfd_open(pid);
    if (!fd) return !runtime::process_start_time(pid);
    // The start time again, now that the pidfd pins the process.
    st = runtime::process_start_time(pid);
    if (!st || (start && *st != start)) return true;
    (void)sys::pidfd_send_signal(fd->get(), SIGKILL);
    struct pollfd p{fd->get(), POLLIN, 0};
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
        if (::poll(&p, 1, 50) > 0) return true;  // exited (a zombie counts: it runs nothing)
    }
    return false;
}


// The container's own process, from the runtime's pid file, when it is a
// child of the recorded owner (so a reused pid is never signalled).
std::optional<pid_t> container_process(const ContainerDirs& dirs, pid_t owner) {
    auto text = fs::read_file(dirs.pid_file());
    if (!text) return std::nullopt;
    pid_t pid = static_cast<pid_t>(std::atoi(text->c_str()));
    if (pid <= 0) return std::nullopt;
    auto stat = fs::read_file(fmt::format("/proc/{}/stat", pid));
    if (!stat) return std::nullopt;
    auto close = stat->rfind(')');
    if (close == std::string::npos) return std::nullopt;
    int ppid = 0;
    if (std::sscanf(stat->c_str() + close + 2, "%*c %d", &ppid) != 1 || ppid != owner) return std::nullopt;
    return pid;
}

void remove_recorded_cgroup(const ContainerDirs& dirs) {
    auto text = fs::read_file(fs::join(dirs.bundle, monitor::kCgroupFile));
    if (!text) return;
    auto cg = runtime::CgroupPaths::from_json(nlohmann::json::parse(*text, nullptr, false));
    if (cg.mode == runtime::CgroupMode::none) return;
    if (auto r = runtime::cgroup_remove(cg); !r) log::warn("{}", r.error().to_string());
}

std::optional<pid_t> container_pid(const ContainerDirs& dirs, pid_t owner) { return container_process(dirs, owner); }

pid_t container_parent(const ContainerRecord& r) { return r.detached && r.monitor_pid > 0 ? r.monitor_pid : r.owner_pid; }

Result<std::vector<ContainerInfo>> list_containers(const Context& ctx) {
    std::vector<ContainerInfo> out;
    for (const auto& id : BOCK_TRY(container_ids(ctx))) {
        auto rec = load_record(ctx, id);
        if (rec) {
            out.push_back(derive_with_facts(ctx, *rec));
            if (out.back().status == "running") out.back().paused = container_paused(ctx, *rec);
            continue;
        }
        ContainerInfo i;
        i.rec.id = id;
        if (!fs::exists(ContainerDirs::for_id(ctx, id).record())) {
            // Its creator was killed before it wrote the first record.
            i.status = "exited";
            i.reason = "it was being created when its bock process was killed";
        } else {
            i.status = "unknown";
            i.reason = rec.error().to_string();
        }
        out.push_back(std::move(i));
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const ContainerInfo& a, const ContainerInfo& b) { return a.rec.created_ns > b.rec.created_ns; });
    return out;
}

Result<ContainerInfo> find_container(const Context& ctx, const std::string& key) {
    if (key.empty()) return make_error("no container given");
    auto all = BOCK_TRY(list_containers(ctx));
    for (const auto& c : all)
        if (c.rec.id == key || (!c.rec.name.empty() && c.rec.name == key)) return c;
    const ContainerInfo* match = nullptr;
    for (const auto& c : all)
        if (c.rec.id.compare(0, key.size(), key) == 0) {
            if (match) return make_error("container id prefix `{}` is ambiguous", key).with_hint("give more of the id");
            match = &c;
        }
    if (!match)
        return Error(ENOENT, fmt::format("no such container: {}", key)).with_hint("see `bock ps -a`").with_exit(1);
    return *match;
}

Result<std::string> remove_container(const Context& ctx, const std::string& key, bool force) {
    auto c = BOCK_TRY(find_container(ctx, key));
    auto dirs = ContainerDirs::for_id(ctx, c.rec.id);
    // A detached container's lock: its cleanup (which may be restarting
    // it) finishes first; then the facts are read again.
    std::optional<FileLock> lock;
    if (c.rec.detached) {
        if (auto l = lock_container(ctx, c.rec.id)) lock = std::move(*l);
        c = BOCK_TRY(find_container(ctx, c.rec.id));
    }
    std::optional<runtime::CgroupPaths> fg_cgroup;
    if (c.status == "running" || c.status == "created" || c.status == "restarting") {
        // One made by `bock create` (held by its monitor, its command not
        // started) goes without -f, as in podman; a foreground run caught
        // between its creation and its start does not.
        bool never_started = c.status == "created" && c.rec.detached;
        if (!force && !never_started)
            return make_error("container {} is running", c.rec.id.substr(0, 12))
                .with_hint(fmt::format("stop it first, or remove it anyway with `bock rm -f {}`", key))
                .with_exit(2);
        // The bock process that runs it, then the container itself (which
        // dies with it: parent-death signal), each checked by start time.
        // The cgroup, found while the container's parent lives (a foreground
        // run's is found through it): its bock removes it on the way out, but
        // killed here it would leave it, so it is removed below.
        auto cg = container_cgroup(ctx, c.rec);
        if (!c.rec.detached) fg_cgroup = cg;
        pid_t parent = c.rec.detached && c.rec.monitor_pid > 0 ? c.rec.monitor_pid : c.rec.owner_pid;
        auto pid = container_process(dirs, parent);
        uint64_t pid_start = pid ? runtime::process_start_time(*pid).value_or(0) : 0;
        // The monitor first: the container dies with it (parent-death
        // signal), and it execs no cleanup.
        if (c.rec.detached && !kill_and_wait(c.rec.monitor_pid, c.rec.monitor_start, 5000))
            return make_error("container {}: its monitor {} did not exit after SIGKILL", c.rec.id.substr(0, 12),
                              c.rec.monitor_pid);
        if (!kill_and_wait(c.rec.owner_pid, c.rec.owner_start, 5000))
            return make_error("container {}: its bock process {} did not exit after SIGKILL", c.rec.id.substr(0, 12),
                              c.rec.owner_pid);
        if (c.paused && cg)  // a frozen process dies only once thawed
            if (auto r = runtime::cgroup_freeze(*cg, false); !r) log::warn("{}", r.error().to_string());
        if (pid && !kill_and_wait(*pid, pid_start, 5000))
            return make_error("container {}: its process {} did not exit after SIGKILL", c.rec.id.substr(0, 12), *pid);
    }
    // Its network helper ends with the container's init; one left by a
    // crash (or a container whose init is gone but not yet noticed) is
    // stopped here, checked by its start time, so that its published
    // ports are free when this returns.
    if (c.rec.netns_pid > 0 && c.rec.netns_start != 0 && !kill_and_wait(c.rec.netns_pid, c.rec.netns_start, 5000))
        return make_error("container {}: its network helper {} did not exit after SIGKILL", c.rec.id.substr(0, 12),
                          c.rec.netns_pid);
    if (auto sock = netns_api_socket(ctx, c.rec.id); !sock.empty()) ::unlink(sock.c_str());
    // Order (docs/storage.md): unmount, runtime directory, record and upper
    // directory, lease last, so that a removal killed half-way leaves at
    // worst a lease, released by the next removal.
    // A FUSE root (bock-fuse, fuse-overlayfs) whose process died is
    // detached first; one whose owner died but whose process lives on is
    // detached by the unmount, and its process then stopped.
    if (auto r = layers::recover_stale_mount(dirs.rootfs); !r) log::warn("{}", r.error().to_string());
    BOCK_TRY(dirs.unmount());
    if (auto r = layers::recover_stale_mount(dirs.rootfs); !r) log::warn("{}", r.error().to_string());
    remove_recorded_cgroup(dirs);
    if (fg_cgroup)
        if (auto r = runtime::cgroup_remove(*fg_cgroup); !r) log::warn("{}", r.error().to_string());
    BOCK_TRY(dirs.remove());
    BOCK_TRY(ctx.store->release_lease(c.rec.id));
    BOCK_TRY_CTX(release_endpoints(ctx, c.rec.id), "release its service network addresses");
    record_event(ctx, "container", "remove", c.rec.id, {{"name", c.rec.name}, {"image", c.rec.image}});
    return c.rec.id;
}

Result<void> release_orphan_leases(const Context& ctx) {
    // A lease is taken after the container's directory exists and released
    // after it is gone: a lease without a directory is left by a removal
    // that was killed.
    for (const auto& l : BOCK_TRY(ctx.store->leases()))
        if (is_container_id(l.holder) && !fs::exists(ContainerDirs::for_id(ctx, l.holder).storage)) {
            log::debug("releasing the lease of removed container {}", l.holder.substr(0, 12));
            BOCK_TRY(ctx.store->release_lease(l.holder));
        }
    return ok();
}

}  // namespace bock::engine
