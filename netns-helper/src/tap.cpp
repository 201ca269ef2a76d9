#include "tap.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/strings.hpp"
#include "bock/common/sys.hpp"
#include "bock/common/netlink.hpp"

namespace bock::netns {

namespace {

Result<Fd> create_tap(const std::string& name) {
    auto opened = sys::open("/dev/net/tun", O_RDWR | O_NONBLOCK);
    if (!opened) {
        auto e = std::move(opened).error().wrap("open the TAP device");
        if (e.code() == EACCES || e.code() == EPERM)
            e.with_hint("distributions ship /dev/net/tun mode 666: `chmod 666 /dev/net/tun` as root; or run the "
                        "container with --network none");
        else if (e.code() == ENOENT || e.code() == ENODEV)
            e.with_hint("load the tun module (`modprobe tun`) as root; or run the container with --network none");
        return e;
    }
    auto fd = std::move(*opened);
    ifreq ifr{};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (::ioctl(fd.get(), TUNSETIFF, &ifr) < 0) {
        auto e = errno_error("create TAP device `{}`", name);
        if (e.code() == EPERM)
            e.with_hint("bock-netns must be root in the user namespace that owns the network namespace (--userns-path)");
        return e;
    }
    // Persistent: closing the fd when the helper stops then only detaches
    // it, instead of unregistering the device there and then (~10 ms and
    // more under load, synchronously in the helper's exit, which the
    // engine waits for); the device goes with the namespace, whose cleanup
    // the kernel does asynchronously.
    if (::ioctl(fd.get(), TUNSETPERSIST, 1) < 0) log::debug("TUNSETPERSIST on `{}`: {}", name, std::strerror(errno));
    return fd;
}

// "0 N": every group id mapped in this user namespace, from 0 up to the end
// of the run of adjacent ranges that starts at 0 ("0 2147483647" when all
// are mapped). A rootless session maps 0 (the user) and 1..65536 (the
// subordinate range) as two ranges, so both are taken: "0 65536". The
// kernel refuses a range whose ends are not mapped.
Result<void> allow_ping_for_all_groups() {
    const char* path = "/proc/sys/net/ipv4/ping_group_range";
    auto r = fs::write_file(path, "0 2147483647");
    if (r || r.error().code() != EINVAL) return r;
    auto map = BOCK_TRY(fs::read_file("/proc/self/gid_map"));
    std::vector<std::pair<unsigned long, unsigned long>> ranges;  // [inside, inside + count)
    for (const auto& line : strings::split(map, '\n')) {
        unsigned long inside = 0, outside = 0, count = 0;
        if (std::sscanf(line.c_str(), "%lu %lu %lu", &inside, &outside, &count) == 3 && count > 0)
            ranges.emplace_back(inside, inside + count);
    }
    std::sort(ranges.begin(), ranges.end());
    if (ranges.empty() || ranges.front().first != 0)
        return make_error("no group range from 0 is mapped in this user namespace");
    unsigned long end = ranges.front().second;
    for (const auto& [from, to] : ranges)
        if (from <= end) end = std::max(end, to);
    return fs::write_file(path, fmt::format("0 {}", end - 1));
}

}  // namespace

Result<Fd> open_tap(const TapConfig& cfg) {
    auto tap = BOCK_TRY(create_tap(cfg.name));
    auto nl = BOCK_TRY(Netlink::open());

    int lo = BOCK_TRY(nl.link_index("lo"));
    BOCK_TRY_CTX(nl.set_link_up(lo, 0), "lo");

    int idx = BOCK_TRY(nl.link_index(cfg.name));
    auto what = fmt::format("configure `{}`", cfg.name);
    BOCK_TRY_CTX(nl.set_link_up(idx, cfg.mtu), what);
    in_addr a4{}, gw4{};
    ::inet_pton(AF_INET, kGuestAddr4, &a4);
    ::inet_pton(AF_INET, kGateway4, &gw4);
    BOCK_TRY_CTX(nl.add_address(idx, AF_INET, &a4, 24), what);
    BOCK_TRY_CTX(nl.add_default_route(idx, AF_INET, &gw4), what);
    if (cfg.ipv6) {
        in6_addr a6{}, gw6{};
        ::inet_pton(AF_INET6, kGuestAddr6, &a6);
        ::inet_pton(AF_INET6, kGateway6, &gw6);
        auto r = nl.add_address(idx, AF_INET6, &a6, 64);
        bool v6_disabled = !r && r.error().code() == EACCES;  // disable_ipv6 in this namespace
        if (!v6_disabled) {
            BOCK_TRY_CTX(std::move(r), what);
            BOCK_TRY_CTX(nl.add_default_route(idx, AF_INET6, &gw6), what);
        }
    }
    // ping (ICMP echo sockets) for every group, as podman does: a new
    // namespace starts at "1 0", i.e. nobody.
    if (cfg.ping_group_range)
        BOCK_TRY_CTX(allow_ping_for_all_groups(), "set net.ipv4.ping_group_range");
    return tap;
}

}  // namespace bock::netns
