// bock.conf's defaults applied to a run request (docs/config.md): a flag
// given on the command line always wins.
#include <cstdlib>

#include "run_isolation.hpp"

namespace bock::engine {

RunRequest with_config_defaults(const Context& ctx, const RunRequest& asked) {
    const Config& c = ctx.config;
    RunRequest req = asked;
    // Containers behind a monitor have no slirp4netns yet (run.cpp): the
    // configured default does not apply to them.
    if (req.network.empty() && !c.default_network.empty() &&
        !(needs_monitor(req) && c.default_network.starts_with("slirp4netns")))
        req.network = c.default_network;
    // $BOCK_DNS_UPSTREAM wins over the file (network.cpp reads it).
    if (req.dns_upstream.empty() && !std::getenv("BOCK_DNS_UPSTREAM")) req.dns_upstream = c.dns_upstream;
    if (!c.log_size_max.empty()) {
        bool given = false;
        for (const auto& o : req.log_opts) given = given || o.starts_with("max-size=");
        if (!given) req.log_opts.push_back("max-size=" + c.log_size_max);
    }
    return req;
}

}  // namespace bock::engine
