#include "outbound.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bock/common/subprocess.hpp"
#include "bock/common/sys.hpp"

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

void OutboundRedirect::go() {
    if (go_fd) (void)!::write(go_fd.get(), "1", 1);
    go_fd.reset();
}

Result<OutboundRedirect> setup_outbound_redirect() {
    auto nft = find_program("nft", "/usr/sbin:/sbin:/usr/bin:/bin");
    if (!nft) return make_error("`nft` is not installed");
    OutboundRedirect r;
    uint16_t port = 0;
    r.listener = BOCK_TRY_CTX(listen_on_loopback(port), "listen for redirected connections");
    // The listener's own port is left out, so it cannot be reached as 10.0.2.2.
    // Only a connection's first SYN is redirected: a connection that started
    // through libslirp before the rule existed is picked up mid-stream by
    // conntrack as "new", and must not be sent to the listener (a reset).
    auto rules = fmt::format(
        "add table ip bock_netns; "
        "add chain ip bock_netns output {{ type nat hook output priority -100; policy accept; }}; "
        "add rule ip bock_netns output ip daddr 10.0.2.2 tcp dport != {0} tcp flags & (syn | ack) == syn "
        "redirect to :{0}",
        port);
    auto pipe = BOCK_TRY(sys::pipe());
    // Everything the child touches is ready before fork: other threads
    // exist, so the child calls only read, execve and _exit.
    char* argv[] = {nft->data(), rules.data(), nullptr};
    char* envp[] = {nullptr};
    int go = pipe.first.get();
    int other = pipe.second.get();
    pid_t pid = ::fork();
    if (pid < 0) return errno_error("fork for nft");
    if (pid == 0) {
        ::close(other);
        char c = 0;
        if (::read(go, &c, 1) != 1) ::_exit(0);  // the helper stopped before ready
        ::dup2(go, 0);
        ::execve(argv[0], argv, envp);
        ::_exit(127);
    }
    r.nft = Pid(pid);
    r.go_fd = std::move(pipe.second);
    return r;
}

}  // namespace bock::netns
