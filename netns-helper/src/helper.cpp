#include "bock/netns/helper.hpp"

#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>

#include <thread>

#include "api.hpp"
#include "bock/common/log.hpp"
#include "bock/common/sys.hpp"
#include "dns.hpp"
#include "event_loop.hpp"
#include "forwarder.hpp"
#include "ports.hpp"
#include "sandbox.hpp"
#include "tap.hpp"

namespace bock::netns {

namespace {

// Each published connection costs 2 sockets and 4 pipe fds.
void raise_fd_limit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
}

// Opens the TAP on a short-lived thread that joins the namespace: once in
// a child user namespace the helper could not setns back into the host's
// network namespace, and its host sockets must stay there.
Result<Fd> open_tap_in(int netns_fd, const TapConfig& cfg) {
    Result<Fd> result = make_error("not run");
    std::thread t([&] {
        auto joined = sys::setns(netns_fd, CLONE_NEWNET);
        if (!joined) {
            result = std::move(joined).error().wrap("join the container's network namespace");
            return;
        }
        result = open_tap(cfg);
    });
    t.join();
    return result;
}

Result<void> write_ready(int fd) {
    if (fd < 0) return ok();
    if (sys::raw::write_all(fd, "1", 1) < 0) return errno_error("write to the ready fd {}", fd);
    ::close(fd);
    return ok();
}

}  // namespace

Result<void> run_helper(const Options& o) {
    ::signal(SIGPIPE, SIG_IGN);  // splice(2) to a closed socket: EPIPE is handled
    raise_fd_limit();

    // 1. What to watch and join, opened while everything is visible.
    Fd watch;
    if (o.watch_pid > 0) watch = BOCK_TRY_CTX(sys::pidfd_open(o.watch_pid), "watch the container's init");
    std::string netns_path = o.netns_path.empty() ? fmt::format("/proc/{}/ns/net", o.netns_pid) : o.netns_path;
    auto netns = BOCK_TRY_CTX(sys::open(netns_path, O_RDONLY), "open the container's network namespace");
    int port_start = read_unprivileged_port_start();

    // 2. The user namespace that owns it (single-threaded: setns requires it).
    if (!o.userns_path.empty()) {
        auto userns = BOCK_TRY_CTX(sys::open(o.userns_path, O_RDONLY), "open the user namespace");
        BOCK_TRY_CTX(sys::setns(userns.get(), CLONE_NEWUSER), fmt::format("join user namespace `{}`", o.userns_path));
    }

    // 3. The TAP, configured inside; ping for every group.
    TapConfig tc{o.tap_name, o.mtu, o.ipv6, o.set_ping_group_range};
    auto tap = BOCK_TRY(open_tap_in(netns.get(), tc));

    // 4. Everything bound on the host before the sandbox hides it.
    Ports ports(port_start);
    for (const auto& f : o.publish) BOCK_TRY(ports.add(f));
    std::unique_ptr<ApiServer> api;
    if (!o.api_socket.empty()) api = BOCK_TRY(ApiServer::listen(o.api_socket));
    SlirpSettings ss{o.mtu, o.ipv6, o.allow_host_loopback, o.dns_upstream.has_value()};
    auto loop = BOCK_TRY(EventLoop::create(std::move(tap), ss));
    std::unique_ptr<DnsForwarder> dns;
    if (o.dns_upstream) {
        dns = std::make_unique<DnsForwarder>(*loop, *o.dns_upstream);
        loop->set_dns_forwarder(dns.get());
    }

    // 5. Lock down: mount namespace, then the forwarder thread (it joins the
    //    container's namespace and drops its own privileges), then ours and
    //    the seccomp filter for both.
    if (o.sandbox) BOCK_TRY(enter_mount_sandbox());
    auto fw = BOCK_TRY(Forwarder::start(netns.get()));
    netns.reset();
    ports.attach(fw.get());
    if (o.sandbox) BOCK_TRY(drop_privileges());
    if (o.seccomp) BOCK_TRY(install_seccomp());

    // 6. Serve; stop when the exit fd closes or init exits.
    if (o.exit_fd >= 0) {
        loop->watch(o.exit_fd, POLLIN, [&loop, fd = o.exit_fd](short) {
            char b[64];
            ssize_t n = ::read(fd, b, sizeof b);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                log::debug("exit fd closed: stopping");
                loop->stop();
            }
        });
    }
    if (watch) {
        loop->watch(watch.get(), POLLIN, [&loop](short) {
            log::debug("the container's init exited: stopping");
            loop->stop();
        });
    }
    if (api) api->serve(*loop, ports);
    BOCK_TRY(write_ready(o.ready_fd));
    return loop->run();
}

}  // namespace bock::netns
