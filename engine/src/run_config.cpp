// bock.conf's defaults applied to a run request (docs/config.md): a flag
// given on the command line always wins.
#include <algorithm>
#include <cstdlib>
#include <map>

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

void apply_image_security(RunRequest& req, const RunRequest& asked, const std::map<std::string, std::string>& labels) {
    auto label = [&](const char* k) -> std::string {
        auto it = labels.find(std::string("io.bock.security.") + k);
        return it == labels.end() ? "" : it->second;
    };
    auto& sec = req.security;
    const auto& cli = asked.security;
    if (cli.privileged) return;
    auto has_opt = [&](const char* prefix) {
        return std::any_of(cli.security_opt.begin(), cli.security_opt.end(), [&](const std::string& o) { return o.starts_with(prefix); });
    };
    if (!cli.read_only_given && label("read_only_rootfs") == "true") sec.read_only = true;
    auto split = [](const std::string& s) {
        std::vector<std::string> out;
        for (size_t p = 0; p < s.size();) {
            size_t c = std::min(s.find(',', p), s.size());
            if (c > p) out.push_back(s.substr(p, c - p));
            p = c + 1;
        }
        return out;
    };
    if (cli.cap_drop.empty()) sec.cap_drop = split(label("capabilities.drop"));
    std::vector<std::string> add;
    for (const auto& c : split(label("capabilities.add")))
        if (std::find(cli.cap_drop.begin(), cli.cap_drop.end(), c) == cli.cap_drop.end()) add.push_back(c);
    add.insert(add.end(), cli.cap_add.begin(), cli.cap_add.end());
    sec.cap_add = add;
    if (label("seccomp") == "unconfined" && !has_opt("seccomp")) {
        std::erase_if(sec.security_opt, [](const std::string& o) { return o.starts_with("seccomp"); });
        sec.security_opt.push_back("seccomp=unconfined");
    }
    if (label("no_new_privileges") == "true" && !has_opt("no-new-privileges")) sec.security_opt.push_back("no-new-privileges");
}

}  // namespace bock::engine
