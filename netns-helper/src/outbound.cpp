#include "outbound.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "bock/common/subprocess.hpp"

namespace bock::netns {

namespace {

Result<Fd> listen_on_loopback(uint16_t& port) {
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0) return errno_error("socket");
    Fd fd(s);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (::bind(s, reinterpret_cast<sockaddr*>(&sa), len) < 0) return errno_error("bind 127.0.0.1");
    if (::listen(s, 4096) < 0) return errno_error("listen");
    if (::getsockname(s, reinterpret_cast<sockaddr*>(&sa), &len) < 0) return errno_error("getsockname");
    port = ntohs(sa.sin_port);
    return fd;
}

}  // namespace

Result<OutboundRedirect> setup_outbound_redirect() {
    auto nft = find_program("nft", "/usr/sbin:/sbin:/usr/bin:/bin");
    if (!nft) return make_error("`nft` is not installed");
    OutboundRedirect r;
    uint16_t port = 0;
    r.listener = BOCK_TRY_CTX(listen_on_loopback(port), "listen for redirected connections");
    // The listener's own port is left out, so it cannot be reached as 10.0.2.2.
    auto rules = fmt::format(
        "add table ip bock_netns; "
        "add chain ip bock_netns output {{ type nat hook output priority -100; policy accept; }}; "
        "add rule ip bock_netns output ip daddr 10.0.2.2 tcp dport != {0} redirect to :{0}",
        port);
    SpawnOptions o;
    o.argv = {*nft, rules};
    r.nft = BOCK_TRY_CTX(spawn_program(o), "run nft");
    return r;
}

}  // namespace bock::netns
