// The v1 devices controller's rules, in runc's order: "deny a" first (the
// spec's own rules usually start with it), then the spec's rules, then the
// devices every container needs (runc's AllowedDevices): mknod of any
// node, /dev/null, zero, full, random, urandom, tty, console, ptmx, the
// pts slaves and /dev/net/tun. A container's other linux.devices come with
// their own allow rules from the engine (podman adds them to resources).
#include "cgroup_impl.hpp"

namespace bock::runtime::cg {

std::string device_line(const DeviceRule& r) {
    auto num = [](const std::optional<int64_t>& v) { return v ? std::to_string(*v) : std::string("*"); };
    if (r.type == "a") return "a";
    return fmt::format("{} {}:{} {}", r.type, num(r.major), num(r.minor), r.access);
}

std::vector<DeviceLine> v1_device_rules(const std::vector<DeviceRule>& spec_rules) {
    std::vector<DeviceLine> out{{false, "a"}};
    for (const auto& r : spec_rules) {
        // "deny a" again would be redundant; "allow a" opens everything.
        if (!r.allow && r.type == "a" && out.size() == 1) continue;
        out.push_back({r.allow, device_line(r)});
    }
    static const char* const kDefaults[] = {
        "c *:* m", "b *:* m",            // mknod of any node (use still denied)
        "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",  // null zero full random urandom
        "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm",  // tty console ptmx
        "c 136:* rwm",                         // /dev/pts/N
        "c 10:200 rwm",                        // /dev/net/tun
    };
    for (const char* line : kDefaults) out.push_back({true, line});
    return out;
}

}  // namespace bock::runtime::cg
