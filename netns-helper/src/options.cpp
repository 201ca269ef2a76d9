#include "bock/netns/options.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace bock::netns {

const char* proto_name(Proto p) { return p == Proto::tcp ? "tcp" : "udp"; }

std::string HostAddr::ip_string() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (family == AF_INET)
        ::inet_ntop(AF_INET, &v4, buf, sizeof buf);
    else
        ::inet_ntop(AF_INET6, &v6, buf, sizeof buf);
    return buf;
}

std::string HostAddr::to_string() const {
    if (family == AF_INET6) return fmt::format("[{}]:{}", ip_string(), port);
    return fmt::format("{}:{}", ip_string(), port);
}

namespace {

Result<unsigned long> parse_number(std::string_view s, unsigned long max, std::string_view what) {
    unsigned long v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v > max)
        return make_error("{} `{}`: not a number from 0 to {}", what, s, max);
    return v;
}

Result<uint16_t> parse_port(std::string_view s) {
    auto v = BOCK_TRY(parse_number(s, 65535, "port"));
    if (v == 0) return make_error("port `{}`: must be from 1 to 65535", s);
    return static_cast<uint16_t>(v);
}

// Parses a bare IP (no brackets) into addr.
bool parse_ip(std::string_view s, HostAddr& addr) {
    std::string str(s);
    if (::inet_pton(AF_INET, str.c_str(), &addr.v4) == 1) {
        addr.family = AF_INET;
        return true;
    }
    if (::inet_pton(AF_INET6, str.c_str(), &addr.v6) == 1) {
        addr.family = AF_INET6;
        return true;
    }
    return false;
}

}  // namespace

Result<HostAddr> parse_host_addr(std::string_view spec, uint16_t default_port) {
    HostAddr a;
    a.port = default_port;
    std::string_view ip = spec, port;
    if (!spec.empty() && spec.front() == '[') {
        auto close = spec.find(']');
        if (close == std::string_view::npos) return make_error("address `{}`: missing `]`", spec);
        ip = spec.substr(1, close - 1);
        auto rest = spec.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return make_error("address `{}`: expected `:PORT` after `]`", spec);
            port = rest.substr(1);
        }
    } else if (std::count(spec.begin(), spec.end(), ':') == 1) {
        auto colon = spec.find(':');
        ip = spec.substr(0, colon);
        port = spec.substr(colon + 1);
    }
    if (!parse_ip(ip, a)) return make_error("address `{}`: `{}` is not an IPv4 or IPv6 address", spec, ip);
    if (!port.empty()) a.port = BOCK_TRY_CTX(parse_port(port), fmt::format("address `{}`", spec));
    return a;
}

Result<Forward> parse_publish(std::string_view spec) {
    Forward f;
    std::string_view s = spec;
    auto slash = s.rfind('/');
    if (slash != std::string_view::npos) {
        auto proto = s.substr(slash + 1);
        if (proto == "tcp")
            f.proto = Proto::tcp;
        else if (proto == "udp")
            f.proto = Proto::udp;
        else
            return make_error("publish `{}`: protocol `{}` is not tcp or udp", spec, proto);
        s = s.substr(0, slash);
    }
    // The container port is after the last ':', the host port before it.
    auto last = s.rfind(':');
    if (last == std::string_view::npos)
        return make_error("publish `{}`: expected [IP:]HOSTPORT:CONTAINERPORT", spec);
    f.container_port = BOCK_TRY_CTX(parse_port(s.substr(last + 1)), fmt::format("publish `{}`", spec));
    s = s.substr(0, last);
    auto prev = s.rfind(':');
    std::string_view ip, hport = s;
    if (prev != std::string_view::npos) {
        ip = s.substr(0, prev);
        hport = s.substr(prev + 1);
    }
    f.host.port = BOCK_TRY_CTX(parse_port(hport), fmt::format("publish `{}`", spec));
    if (ip.empty()) {
        f.any_host_ip = true;
        f.host.family = AF_INET;
        f.host.v4.s_addr = htonl(INADDR_ANY);
        return f;
    }
    if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
    if (!parse_ip(ip, f.host))
        return make_error("publish `{}`: `{}` is not an IPv4 or IPv6 address", spec, ip);
    return f;
}

const char* usage() {
    return R"(usage: bock-netns (--netns-pid PID | --netns-sock FD | --netns-path PATH) [options]

A libslirp network helper for one rootless container (docs/netns-helper.md).

target:
  --netns-pid PID          join /proc/PID/ns/net (and watch PID: exit when it exits)
  --netns-sock FD          receive PID and the fd of its network namespace on the unix
                           socket FD (one message, the fd as SCM_RIGHTS) once the ports,
                           the API socket, libslirp, the seccomp filter and the sandbox
                           are ready; EOF without a PID: exit 0
  --netns-path PATH        join the network namespace at PATH
  --userns-path PATH       join this user namespace first
  --watch-pid PID          exit when PID exits (default: --netns-pid)
contract:
  --ready-fd N             write "1" to N once locked down and serving
  --exit-fd N              exit when N is closed at its other end (POLLHUP)
  --api-socket PATH        JSON API for published ports (add/list/remove)
network:
  --mtu N                  default 65520
  --tap NAME               default tap0
  --disable-ipv6           no fd00::/64
  --allow-host-loopback    10.0.2.2 reaches the host's 127.0.0.1
  --dns-upstream A[:PORT]  forward 10.0.2.3's DNS to this resolver
  --publish [IP:]HOSTPORT:CONTAINERPORT[/tcp|udp]   repeatable
  --no-ping-group-range    leave net.ipv4.ping_group_range as it is
  --forward-only           no TAP and no slirp traffic: only published ports, forwarded
                           from the joined namespace (root's service networks)
  --no-sandbox, --no-seccomp   for debugging only
)";
}

Result<Options> parse_options(int argc, char** argv, bool& help) {
    Options o;
    help = false;
    auto value = [&](int& i, std::string_view flag) -> Result<std::string_view> {
        if (i + 1 >= argc) return make_error("{}: missing value", flag);
        return std::string_view(argv[++i]);
    };
    auto number = [&](int& i, std::string_view flag, unsigned long max) -> Result<unsigned long> {
        auto v = BOCK_TRY(value(i, flag));
        return BOCK_TRY_CTX(parse_number(v, max, "value"), std::string(flag));
    };
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--help" || a == "-h") {
            help = true;
            return o;
        } else if (a == "--netns-pid") {
            o.netns_pid = static_cast<pid_t>(BOCK_TRY(number(i, a, 1u << 22)));
        } else if (a == "--netns-sock") {
            o.netns_sock = static_cast<int>(BOCK_TRY(number(i, a, 1 << 20)));
        } else if (a == "--netns-path") {
            o.netns_path = BOCK_TRY(value(i, a));
        } else if (a == "--userns-path") {
            o.userns_path = BOCK_TRY(value(i, a));
        } else if (a == "--watch-pid") {
            o.watch_pid = static_cast<pid_t>(BOCK_TRY(number(i, a, 1u << 22)));
        } else if (a == "--ready-fd") {
            o.ready_fd = static_cast<int>(BOCK_TRY(number(i, a, 1 << 20)));
        } else if (a == "--exit-fd") {
            o.exit_fd = static_cast<int>(BOCK_TRY(number(i, a, 1 << 20)));
        } else if (a == "--api-socket") {
            o.api_socket = BOCK_TRY(value(i, a));
        } else if (a == "--mtu") {
            o.mtu = static_cast<unsigned>(BOCK_TRY(number(i, a, 65521)));
            if (o.mtu < 1280) return make_error("--mtu {}: below 1280 (IPv6's minimum)", o.mtu);
        } else if (a == "--tap") {
            o.tap_name = BOCK_TRY(value(i, a));
            if (o.tap_name.empty() || o.tap_name.size() >= 16)
                return make_error("--tap `{}`: an interface name has 1 to 15 characters", o.tap_name);
        } else if (a == "--disable-ipv6") {
            o.ipv6 = false;
        } else if (a == "--allow-host-loopback") {
            o.allow_host_loopback = true;
        } else if (a == "--dns-upstream") {
            o.dns_upstream = BOCK_TRY_CTX(parse_host_addr(BOCK_TRY(value(i, a)), 53), "--dns-upstream");
        } else if (a == "--publish" || a == "-p") {
            o.publish.push_back(BOCK_TRY(parse_publish(BOCK_TRY(value(i, a)))));
        } else if (a == "--no-ping-group-range") {
            o.set_ping_group_range = false;
        } else if (a == "--forward-only") {
            o.forward_only = true;
        } else if (a == "--no-sandbox") {
            o.sandbox = false;
        } else if (a == "--no-seccomp") {
            o.seccomp = false;
        } else {
            return make_error("unknown option `{}`", a).with_hint("see bock-netns --help");
        }
    }
    if ((o.netns_pid > 0) + (o.netns_sock >= 0) + !o.netns_path.empty() != 1)
        return make_error("exactly one of --netns-pid, --netns-sock and --netns-path is needed");
    if (o.netns_sock >= 0 && !o.userns_path.empty())
        return make_error("--netns-sock cannot be combined with --userns-path")
            .with_hint("the user namespace is joined single-threaded, before the PID is known");
    if (o.watch_pid == 0) o.watch_pid = o.netns_pid;
    return o;
}

}  // namespace bock::netns
