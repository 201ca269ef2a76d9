#include "outbound.hpp"

#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
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

struct NftChildMemory {
    std::string nft, rules;
    int go = -1, other = -1;  // the pipe's ends: the child reads go, closes other
    char* argv[3] = {nullptr, nullptr, nullptr};
    char* envp[1] = {nullptr};
    alignas(16) char stack[32 * 1024];
};

void NftChildMemoryDeleter::operator()(NftChildMemory* m) const { delete m; }

namespace {

// The child: other threads exist and the memory is shared, so it calls only
// close, read, dup2, execve and _exit, on its own stack.
int nft_child(void* arg) {
    auto* m = static_cast<NftChildMemory*>(arg);
    ::close(m->other);
    char c = 0;
    if (::read(m->go, &c, 1) != 1) ::_exit(0);  // the helper stopped before ready
    ::dup2(m->go, 0);
    ::execve(m->argv[0], m->argv, m->envp);
    ::_exit(127);
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
    r.child_memory.reset(new NftChildMemory);
    NftChildMemory* m = r.child_memory.get();
    m->nft = std::move(*nft);
    m->rules = std::move(rules);
    m->go = pipe.first.get();
    m->other = pipe.second.get();
    m->argv[0] = m->nft.data();
    m->argv[1] = m->rules.data();
    pid_t pid = ::clone(nft_child, m->stack + sizeof m->stack, CLONE_VM | SIGCHLD, m);
    if (pid < 0) return errno_error("start nft");
    r.nft = Pid(pid);
    r.go_fd = std::move(pipe.second);
    return r;
}

}  // namespace bock::netns
