// The engine's side of a container's network: the files it sees
// (/etc/resolv.conf, /etc/hosts, /etc/hostname) and the bock-netns helper
// attached to its network namespace (docs/netns-helper.md, "Engine
// checklist"). run_container, create_container and start_existing call
// one ContainerNetwork at six points (docs/networking.md, "How bock run
// sets it up", "Containers behind a monitor").
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/common/fd.hpp"
#include "bock/common/pid.hpp"
#include "bock/engine/context.hpp"
#include "bock/engine/network.hpp"
#include "bock/engine/run.hpp"
#include "bock/engine/svcnet.hpp"
#include "bock/layers/overlay.hpp"
#include "bock/runtime/container.hpp"
#include "bock/runtime/spec.hpp"
#include "container_dirs.hpp"

namespace bock::engine {

struct NetworkFiles {
    std::vector<std::string> dns;  // nameservers (default 10.0.2.3 with slirp4netns)
    std::vector<std::string> dns_search, dns_option, add_host;  // add_host: NAME:IP
    std::string hostname;
    bool host_loopback = false;  // host.containers.internal -> 10.0.2.2
    std::string self_ip;  // the container's address for its hostname (default 10.0.2.100)
};

// Writes resolv.conf, hosts and hostname into `dir` and adds bind mounts
// of them onto the spec.
Result<void> write_network_files(const std::string& dir, const NetworkFiles& f, runtime::Spec& spec);

// <store>/mount-targets/NAME+NAME..., holding empty files etc/NAME: a
// lower layer put on top of the image's, so that the bind mounts of the
// network files find their targets without the runtime creating them in
// the container's upper directory (where `bock diff` and `bock commit`
// would see them). Made once per store, shared read-only.
Result<std::string> mount_targets_layer(const std::string& store_root, const std::vector<std::string>& names);

// The helper's API socket: short (sun_path holds 108 bytes); empty when
// even that is too long.
std::string netns_api_socket(const Context& ctx, const std::string& id);

struct HelperOptions {
    std::string api_socket;
    std::string log;  // the helper's stderr
    std::string dns_upstream;
    bool allow_host_loopback = false;
    std::vector<PortMapping> ports;
};

// A bock-netns started for one container. It stops by itself when the
// container's init exits (the engine holds no exit fd), so it outlives
// the bock process that started it when the container does.
class NetnsHelper {
public:
    NetnsHelper() = default;
    NetnsHelper(NetnsHelper&&) = default;
    NetnsHelper& operator=(NetnsHelper&&) = default;
    ~NetnsHelper() { finish(); }
    // Starts it before the container exists (--netns-sock): it binds the
    // published ports and prepares libslirp and its sandbox meanwhile.
    static Result<NetnsHelper> spawn(const HelperOptions& opts);
    // Sends it the container's init and its network namespace (netns_fd,
    // from on_spawned; -1: opened here by pid): called by the container's
    // creator right after the clone, before the container changes its ids.
    Result<void> attach(pid_t pid, int netns_fd = -1);
    // Waits (10 s at most) for it to be ready; the error carries its log.
    Result<void> wait_ready();
    // After the container ended: waits (2 s at most) until the helper has
    // closed its published ports, then lets it finish by itself (closing
    // its TAP takes the kernel ~10 ms more). One that never became ready,
    // or did not let go of its ports, is killed.
    void finish();
    // Leaves it running (the container lives on without this process).
    void detach();
    pid_t pid() const { return pid_.get(); }
    // The fds attach() and wait_ready() use: a process forked to create
    // the container (a monitor's creator) keeps them open.
    std::vector<int> fds() const;

private:
    Pid pid_;
    Fd ns_w_;  // --netns-sock's other end, until attach()
    Fd ready_;
    bool is_ready_ = false;
    std::string log_;
    std::string api_socket_;  // removed by finish(): the helper's sandbox hides it
};

// Published ports of a service network's container (svcnet::publish): the
// forwards removed on destruction (a foreground run, after its container
// ended) unless released (a container that outlives this process; the
// helper removes them when its init exits, `bock rm` too).
class SvcPublished {
public:
    SvcPublished() = default;
    SvcPublished(const Context* ctx, std::string id) : ctx_(ctx), id_(std::move(id)) {}
    SvcPublished(SvcPublished&& o) noexcept : ctx_(std::exchange(o.ctx_, nullptr)), id_(std::move(o.id_)) {}
    SvcPublished& operator=(SvcPublished&& o) noexcept {
        if (this != &o) {
            reset();
            ctx_ = std::exchange(o.ctx_, nullptr);
            id_ = std::move(o.id_);
        }
        return *this;
    }
    ~SvcPublished() { reset(); }
    void release() { ctx_ = nullptr; }

private:
    void reset();
    const Context* ctx_ = nullptr;
    std::string id_;
};

// The network step of run_container, in the order it calls them. A
// container behind a monitor (create_container, start_existing) goes
// through the same steps; its attach() runs in the process that creates
// the container (launch_monitor's process B, forked after start(): it
// keeps inherited_fds() open), and detach() follows in bock.
class ContainerNetwork {
public:
    // --network, -p, --dns*, --add-host, --dns-upstream checked (and
    // container:NAME found) before anything is made.
    static Result<ContainerNetwork> prepare(Context& ctx, const RunRequest& req);
    ContainerNetwork() = default;
    ContainerNetwork(ContainerNetwork&&) = default;
    ContainerNetwork& operator=(ContainerNetwork&&) = default;
    // A detached container started again (bock start, a restart policy,
    // system restart): the network it was created with, from the record
    // and <storage>/network.json; its files are kept in <storage>.
    static Result<ContainerNetwork> resume(Context& ctx, const ContainerRecord& record, const ContainerDirs& dirs);
    // Before start(): the container outlives this process. Its network
    // files go to <storage> (a restart after a reboot, which empties the
    // run root, binds them again) with what resume() needs (network.json).
    void keep_with_container() { detached_ = true; }
    // record.network and record.ports.
    void describe(ContainerRecord& record) const;
    // none | host | slirp4netns | container | ns | svcnet
    const std::string& kind() const { return mode_.kind; }
    // As early as the container's directories exist: bock-netns started
    // (slirp4netns), to be sent the container's pid and network namespace
    // later; its pid and start time into the record (netns_pid,
    // netns_start).
    Result<void> start(const Context& ctx, const ContainerDirs& dirs, ContainerRecord& record);
    // Before the root is mounted: the mount targets' lower layer.
    Result<void> add_mount_targets(layers::LayersSpec& ls) const;
    // The spec's network namespace and the network files' bind mounts.
    Result<void> configure(const Context& ctx, const ContainerDirs& dirs, runtime::Spec& spec) const;
    // The runtime's hooks: the helper sent the container's pid and network
    // namespace, opened by the creator, as soon as the namespaces exist and
    // before the container changes its ids (on_spawned), and awaited
    // before the container is started (on_created), so that its start
    // overlaps the container's creation instead of following it.
    void attach(runtime::RunOptions& ro);
    // The fds the hooks of attach() use (see the class comment).
    std::vector<int> inherited_fds() const;
    // The helper: finished (waited for its ports, killed if it keeps
    // them 2 s after the container ended) on destruction.
    NetnsHelper* helper() { return helper_.get(); }
    // For a container that outlives this process (a monitor, run -d):
    // leaves the helper running; it stops with the container's init, and
    // `bock rm -f` stops it by the record's netns_pid/netns_start.
    void detach() {
        if (helper_) helper_->detach();
        svc_published_.release();
    }

private:
    // Service networks (engine/src/network_svcnet.cpp).
    Result<void> prepare_svcnet(Context& ctx, const RunRequest& req);
    // A stopped container started again: its endpoints (kept while it
    // exists) on the networks it is on, to be plugged into the new
    // namespace by start().
    Result<void> resume_svcnet(const Context& ctx, const ContainerRecord& record);
    Result<void> start_svcnet(const Context& ctx, const ContainerDirs& dirs, ContainerRecord& record);
    void attach_svcnet(runtime::RunOptions& ro);
    std::vector<ServiceNetwork> svc_;  // as named, then as allocated (with this container's endpoint last)
    std::vector<std::string> svc_aliases_;
    std::string svc_ip_;
    bool svc_resumed_ = false;  // svc_ already holds this container's endpoints
    const Context* svc_ctx_ = nullptr;
    std::string svc_id_;
    SvcPublished svc_published_;  // set by on_spawned when -p was given

    std::string store_root_;
    NetworkMode mode_;
    std::vector<PortMapping> ports_;
    std::string dns_upstream_;
    std::string join_netns_;  // container:NAME, ns:PATH
    NetworkFiles files_;
    bool detached_ = false;  // keep_with_container()
    std::unique_ptr<NetnsHelper> helper_;
};

}  // namespace bock::engine
