#include "bock/common/netlink.hpp"

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/veth.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cstring>

namespace bock {

namespace {

// A request buffer: the netlink header, the family message, attributes.
struct Request {
    alignas(NLMSG_ALIGNTO) char buf[512] = {};
    nlmsghdr* hdr() { return reinterpret_cast<nlmsghdr*>(buf); }

    template <class Msg>
    Msg* start(uint16_t type, uint16_t flags) {
        hdr()->nlmsg_len = NLMSG_LENGTH(sizeof(Msg));
        hdr()->nlmsg_type = type;
        hdr()->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        return reinterpret_cast<Msg*>(NLMSG_DATA(hdr()));
    }
    void attr(uint16_t type, const void* data, size_t len) {
        auto* rta = reinterpret_cast<rtattr*>(buf + NLMSG_ALIGN(hdr()->nlmsg_len));
        rta->rta_type = type;
        rta->rta_len = static_cast<unsigned short>(RTA_LENGTH(len));
        std::memcpy(RTA_DATA(rta), data, len);
        hdr()->nlmsg_len = NLMSG_ALIGN(hdr()->nlmsg_len) + RTA_ALIGN(rta->rta_len);
    }
    void attr(uint16_t type, const std::string& s) { attr(type, s.c_str(), s.size() + 1); }
    // A nested attribute: begin() returns it, end() closes it.
    rtattr* begin(uint16_t type) {
        auto* rta = reinterpret_cast<rtattr*>(buf + NLMSG_ALIGN(hdr()->nlmsg_len));
        rta->rta_type = type;
        rta->rta_len = RTA_LENGTH(0);
        hdr()->nlmsg_len = NLMSG_ALIGN(hdr()->nlmsg_len) + RTA_ALIGN(rta->rta_len);
        return rta;
    }
    // Raw bytes (a nested family message) inside the open attribute.
    void raw(const void* data, size_t len) {
        std::memcpy(buf + NLMSG_ALIGN(hdr()->nlmsg_len), data, len);
        hdr()->nlmsg_len = NLMSG_ALIGN(hdr()->nlmsg_len) + static_cast<unsigned>(NLMSG_ALIGN(len));
    }
    void end(rtattr* rta) {
        rta->rta_len = static_cast<unsigned short>(buf + hdr()->nlmsg_len - reinterpret_cast<char*>(rta));
    }
};

size_t addr_len(int family) { return family == AF_INET ? sizeof(in_addr) : sizeof(in6_addr); }

}  // namespace

Result<Netlink> Netlink::open() {
    int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return errno_error("open a netlink socket");
    Fd owned(fd);
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0)
        return errno_error("bind a netlink socket");
    return Netlink(std::move(owned));
}

Result<void> Netlink::request(void* msg, size_t len, const char* what) {
    auto* hdr = static_cast<nlmsghdr*>(msg);
    hdr->nlmsg_seq = ++seq_;
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(fd_.get(), msg, len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
        return errno_error("{}: send a netlink request", what);
    alignas(NLMSG_ALIGNTO) char reply[1024];
    for (;;) {
        ssize_t n = ::recv(fd_.get(), reply, sizeof reply, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno_error("{}: read the netlink reply", what);
        }
        for (auto* h = reinterpret_cast<nlmsghdr*>(reply); NLMSG_OK(h, static_cast<unsigned>(n));
             h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_seq != seq_ || h->nlmsg_type != NLMSG_ERROR) continue;
            auto* err = static_cast<nlmsgerr*>(NLMSG_DATA(h));
            if (err->error == 0) return ok();
            return Error(-err->error, what);
        }
    }
}

Result<int> Netlink::link_index(const std::string& name) {
    unsigned idx = ::if_nametoindex(name.c_str());
    if (idx == 0) return errno_error("find link `{}`", name);
    return static_cast<int>(idx);
}

Result<void> Netlink::set_link_up(int index, unsigned mtu) {
    Request r;
    auto* ifi = r.start<ifinfomsg>(RTM_NEWLINK, 0);
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = index;
    ifi->ifi_flags = IFF_UP;
    ifi->ifi_change = IFF_UP;
    if (mtu) r.attr(IFLA_MTU, &mtu, sizeof mtu);
    return request(r.buf, r.hdr()->nlmsg_len, "bring the link up");
}

Result<void> Netlink::add_address(int index, int family, const void* addr, int prefix_len) {
    Request r;
    auto* ifa = r.start<ifaddrmsg>(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
    ifa->ifa_family = static_cast<unsigned char>(family);
    ifa->ifa_prefixlen = static_cast<unsigned char>(prefix_len);
    ifa->ifa_index = static_cast<unsigned>(index);
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    r.attr(IFA_LOCAL, addr, addr_len(family));
    r.attr(IFA_ADDRESS, addr, addr_len(family));
    if (family == AF_INET6) {
        uint32_t flags = IFA_F_NODAD;  // the only other host on the link is slirp
        r.attr(IFA_FLAGS, &flags, sizeof flags);
    }
    return request(r.buf, r.hdr()->nlmsg_len, "add an address");
}

Result<void> Netlink::add_default_route(int index, int family, const void* gateway) {
    Request r;
    auto* rt = r.start<rtmsg>(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
    rt->rtm_family = static_cast<unsigned char>(family);
    rt->rtm_table = RT_TABLE_MAIN;
    rt->rtm_protocol = RTPROT_BOOT;
    rt->rtm_scope = RT_SCOPE_UNIVERSE;
    rt->rtm_type = RTN_UNICAST;
    r.attr(RTA_GATEWAY, gateway, addr_len(family));
    uint32_t oif = static_cast<uint32_t>(index);
    r.attr(RTA_OIF, &oif, sizeof oif);
    return request(r.buf, r.hdr()->nlmsg_len, "add the default route");
}

Result<void> Netlink::add_bridge(const std::string& name) {
    Request r;
    auto* ifi = r.start<ifinfomsg>(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    ifi->ifi_family = AF_UNSPEC;
    r.attr(IFLA_IFNAME, name);
    auto* info = r.begin(IFLA_LINKINFO);
    r.attr(IFLA_INFO_KIND, std::string("bridge"));
    r.end(info);
    return request(r.buf, r.hdr()->nlmsg_len, "create a bridge");
}

Result<void> Netlink::add_veth(const std::string& name, const std::string& peer, int peer_netns) {
    Request r;
    auto* ifi = r.start<ifinfomsg>(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    ifi->ifi_family = AF_UNSPEC;
    r.attr(IFLA_IFNAME, name);
    auto* info = r.begin(IFLA_LINKINFO);
    r.attr(IFLA_INFO_KIND, std::string("veth"));
    auto* data = r.begin(IFLA_INFO_DATA);
    auto* peer_info = r.begin(VETH_INFO_PEER);
    ifinfomsg pifi{};
    pifi.ifi_family = AF_UNSPEC;
    r.raw(&pifi, sizeof pifi);
    r.attr(IFLA_IFNAME, peer);
    if (peer_netns >= 0) {
        uint32_t fd = static_cast<uint32_t>(peer_netns);
        r.attr(IFLA_NET_NS_FD, &fd, sizeof fd);
    }
    r.end(peer_info);
    r.end(data);
    r.end(info);
    return request(r.buf, r.hdr()->nlmsg_len, "create a veth pair");
}

Result<void> Netlink::set_master(int index, int master) {
    Request r;
    auto* ifi = r.start<ifinfomsg>(RTM_NEWLINK, 0);
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = index;
    uint32_t m = static_cast<uint32_t>(master);
    r.attr(IFLA_MASTER, &m, sizeof m);
    return request(r.buf, r.hdr()->nlmsg_len, "attach a link to its bridge");
}

Result<void> Netlink::delete_link(int index) {
    Request r;
    auto* ifi = r.start<ifinfomsg>(RTM_DELLINK, 0);
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = index;
    return request(r.buf, r.hdr()->nlmsg_len, "delete a link");
}

}  // namespace bock
