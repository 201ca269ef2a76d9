// The service networks' part of ContainerNetwork (network_setup.hpp):
// `bock run --network NAME[,NAME...] [--network-alias A] [--ip ADDR]`.
// prepare: the networks exist; start: an address on each (the endpoint in
// the network's record, under its lock), the bridges and responders up;
// on_spawned: a veth pair into the container's namespace per network.
#include <algorithm>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/strings.hpp"
#include "network_setup.hpp"
#include "svcnet_internal.hpp"

namespace bock::engine {

Result<void> ContainerNetwork::prepare_svcnet(Context& ctx, const RunRequest& req) {
    if (mode_.make_default) BOCK_TRY(ensure_bridge_network(ctx));
    for (const auto& name : strings::split(mode_.target, ',')) {
        auto n = BOCK_TRY_CTX(find_network(ctx, name), "--network " + name);
        if (std::any_of(svc_.begin(), svc_.end(), [&](const auto& o) { return o.name == n.name; }))
            return make_error("--network {}: named twice", name);
        svc_.push_back(std::move(n));
    }
    if (!req.ip.empty() && svc_.size() > 1)
        return make_error("--ip {}: the container is on {} networks; --ip needs exactly one", req.ip, svc_.size())
            .with_hint("connect it to the others with `bock network connect --ip`");
    for (const auto& a : req.network_aliases)
        if (!svcnet::valid_name(a)) return make_error("--network-alias `{}`: not a valid name", a);
    if (!req.publish.empty() && svc_.front().internal)
        return make_error("-p: network `{}` is --internal: nothing is published from it", svc_.front().name)
            .with_hint("publish from a container whose first --network is not --internal");
    svc_aliases_ = req.network_aliases;
    svc_ip_ = req.ip;
    return ok();
}

Result<void> ContainerNetwork::resume_svcnet(const Context& ctx, const ContainerRecord& record) {
    // The networks it was created on first, in their order (the first
    // gives the default route), then those `bock network connect` added.
    auto named = strings::split(mode_.target, ',');
    auto guard = BOCK_TRY(svcnet::lock(ctx));
    auto all = BOCK_TRY(svcnet::load_all_locked(ctx));
    auto rank = [&](const ServiceNetwork& n) {
        return std::find(named.begin(), named.end(), n.name) - named.begin();
    };
    std::stable_sort(all.begin(), all.end(), [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
    for (auto& n : all) {
        auto it = std::find_if(n.endpoints.begin(), n.endpoints.end(),
                               [&](const Endpoint& e) { return e.container_id == record.id; });
        if (it == n.endpoints.end()) continue;
        std::rotate(it, it + 1, n.endpoints.end());  // this container's endpoint last, as allocate() leaves it
        svc_.push_back(std::move(n));
    }
    if (svc_.empty())
        return make_error("container {}: it is on no service network (`{}` was removed or it was disconnected)",
                          record.name, mode_.target)
            .with_hint("connect it to a network with `bock network connect NETWORK " + record.name + "`");
    svc_resumed_ = true;
    return ok();
}

Result<void> ContainerNetwork::start_svcnet(const Context& ctx, const ContainerDirs& dirs, ContainerRecord& record) {
    if (detached_) {
        // What resume() needs besides the networks' records.
        nlohmann::json j = {{"dns_upstream", dns_upstream_}};
        BOCK_TRY(fs::write_file_replace(fs::join(dirs.storage, "network.json"), j.dump(), 0600, false));
    }
    std::vector<ServiceNetwork> nets;
    if (svc_resumed_) {
        nets = std::move(svc_);
    } else {
        std::vector<svcnet::Attach> attach;
        for (const auto& n : svc_) attach.push_back(svcnet::Attach{n.name, svc_aliases_, svc_ip_});
        nets = BOCK_TRY(svcnet::allocate(ctx, dirs.id, record.name, attach));
    }
    // The link names on the bridges (svcnet::link_name: by container and
    // bridge, so that a running container's link is found to disconnect).
    for (auto& n : nets) n.endpoints.back().link = svcnet::link_name(dirs.id, n);
    svc_ = std::move(nets);
    svc_ctx_ = &ctx;
    svc_id_ = dirs.id;
    for (const auto& n : svc_) BOCK_TRY_CTX(svcnet::ensure_up(ctx, n, dns_upstream_), fmt::format("network `{}`", n.name));
    log::debug("container {}: {} on {}", record.name, svc_.front().endpoints.back().ipv4, svc_.front().name);
    return ok();
}

void ContainerNetwork::attach_svcnet(runtime::RunOptions& ro) {
    ro.on_spawned = [this](pid_t pid, int) -> Result<void> {
        for (size_t i = 0; i < svc_.size(); ++i)
            BOCK_TRY_CTX(svcnet::plug(*svc_ctx_, svc_[i], svc_[i].endpoints.back(), pid, static_cast<int>(i)),
                         fmt::format("connect the container to network `{}`", svc_[i].name));
        // Published ports: to its address on its first network, through
        // the session's bock-netns (the one giving the bridges their way out).
        if (!ports_.empty()) {
            BOCK_TRY_CTX(svcnet::publish(*svc_ctx_, svc_id_, pid, svc_.front().endpoints.back().ipv4, ports_),
                         "publish the container's ports");
            svc_published_ = SvcPublished(svc_ctx_, svc_id_);
        }
        return ok();
    };
}

void SvcPublished::reset() {
    if (ctx_) svcnet::unpublish(*ctx_, id_);
    ctx_ = nullptr;
}

}  // namespace bock::engine
