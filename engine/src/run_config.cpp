// bock.conf's defaults applied to a run request (docs/config.md): a flag
// given on the command line always wins.
#include <algorithm>
#include <cstdlib>

#include "run_isolation.hpp"

namespace bock::engine {

RunRequest with_config_defaults(const Context& ctx, const RunRequest& asked) {
    const Config& c = ctx.config;
    RunRequest req = asked;
    if (req.network.empty() && !c.default_network.empty()) req.network = c.default_network;
    // $BOCK_DNS_UPSTREAM wins over the file (network.cpp reads it).
    if (req.dns_upstream.empty() && !std::getenv("BOCK_DNS_UPSTREAM")) req.dns_upstream = c.dns_upstream;
    if (!c.log_size_max.empty()) {
        bool given = false;
        for (const auto& o : req.log_opts) given = given || o.starts_with("max-size=");
        if (!given) req.log_opts.push_back("max-size=" + c.log_size_max);
    }
    // The security defaults (run_security.cpp): the flags win.
    auto& sec = req.security;
    sec.default_caps = c.default_capabilities;
    if (!c.seccomp_profile.empty() &&
        std::none_of(sec.security_opt.begin(), sec.security_opt.end(),
                     [](const std::string& o) { return o.starts_with("seccomp=") || o.starts_with("seccomp:"); }))
        sec.security_opt.push_back("seccomp=" + c.seccomp_profile);
    for (const auto& u : c.default_ulimits) {
        auto name = u.substr(0, u.find('=') + 1);  // "nofile="
        if (std::none_of(sec.ulimits.begin(), sec.ulimits.end(), [&](const std::string& x) { return x.starts_with(name); }))
            sec.ulimits.insert(sec.ulimits.begin(), u);
    }
    return req;
}

}  // namespace bock::engine
