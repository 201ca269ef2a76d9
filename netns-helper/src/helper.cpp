#include "bock/netns/helper.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>

#include <cstdlib>
#include <optional>
#include <thread>

#include "api.hpp"
#include "bock/common/log.hpp"
#include "bock/common/memory.hpp"
#include "bock/common/sys.hpp"
#include "dns.hpp"
#include "event_loop.hpp"
#include "forwarder.hpp"
#include "outbound.hpp"
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

// Runs on a short-lived thread that joins the namespace: once in a child
// user namespace the helper could not setns back into the host's network
// namespace, and its host sockets must stay there. With host loopback
// allowed, it also prepares the outbound fast path (outbound.hpp).
Result<Fd> open_tap_in(int netns_fd, const TapConfig& cfg, bool host_loopback, OutboundRedirect* outbound) {
    BOCK_TRY_CTX(sys::setns(netns_fd, CLONE_NEWNET), "join the container's network namespace");
    auto tap = BOCK_TRY(open_tap(cfg));
    if (host_loopback) {
        auto l = setup_outbound_redirect();
        if (l)
            *outbound = std::move(*l);
        else
            log::info("no fast path to the host's loopback (libslirp's instead): {}", l.error().to_string());
    }
    return tap;
}

// The ready fd stays open after the "1": its EOF, when the helper stops,
// tells the engine that the published ports are free again.
Result<void> write_ready(int fd) {
    if (fd < 0) return ok();
    if (sys::raw::write_all(fd, "1", 1) < 0) return errno_error("write to the ready fd {}", fd);
    return ok();
}

// The container's init, from the engine (--netns-sock): one message, its
// pid in decimal (a newline allowed), with the fd of its network namespace
// attached (SCM_RIGHTS; run_helper refuses a pid without it). pid 0: EOF
// without a message (the engine gave up).
struct Target {
    pid_t pid = 0;
    Fd netns;
};

Result<Target> receive_target(int sock) {
    char buf[32];
    int fd = -1;
    ssize_t n = sys::raw::recv_with_fd(sock, buf, sizeof buf - 1, &fd);
    ::close(sock);
    Target t;
    t.netns = Fd(fd);
    if (n < 0) return Error(static_cast<int>(-n), fmt::format("receive the container's pid on fd {}", sock));
    if (n == 0) return t;
    buf[n] = 0;
    char* end = nullptr;
    long v = std::strtol(buf, &end, 10);
    if (v <= 0 || v > (1 << 22) || (*end != 0 && *end != '\n'))
        return make_error("fd {}: `{}` is not a pid", sock, std::string(buf, static_cast<size_t>(n)));
    t.pid = static_cast<pid_t>(v);
    return t;
}

// Hands a thread waiting on the pipe's other end the fd number (an int),
// then closes this end.
void hand_over(Fd& w, int fd) {
    (void)sys::raw::write_all(w.get(), &fd, sizeof fd);
    w.reset();
}

// BOCK_LOG=debug: the monotonic clock at each stage of the start, to
// profile start-to-ready against the caller's own clock (bench/net).
void stage(const char* name) {
    if (!log::enabled(log::Level::debug)) return;
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    log::debug("stage {} at {}.{:06} s", name, ts.tv_sec, ts.tv_nsec / 1000);
}

}  // namespace

Result<void> run_helper(const Options& opts) {
    stage("main");
    Options o = opts;  // the pid may come later, from --netns-sock
    ::signal(SIGPIPE, SIG_IGN);  // splice(2) to a closed socket: EPIPE is handled
    // The engine's fds are not passed on to anything the helper starts (nft).
    for (int fd : {o.ready_fd, o.exit_fd, o.netns_sock})
        if (fd >= 0) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    raise_fd_limit();
    int port_start = read_unprivileged_port_start();

    // 4. (run by the TAP thread of step 3 before it joins the container's
    //    namespace, while this one builds the sandbox; with --netns-sock,
    //    here, before the pid is even known) Everything bound on the host
    //    before the sandbox hides it; libslirp prepared (the seccomp
    //    filter is compiled at build time).
    Ports ports(port_start);
    std::unique_ptr<ApiServer> api;
    std::unique_ptr<EventLoop> loop;
    std::unique_ptr<DnsForwarder> dns;
    auto prepare = [&]() -> Result<void> {
        for (const auto& f : o.publish) BOCK_TRY(ports.add(f));
        if (!o.api_socket.empty()) api = BOCK_TRY(ApiServer::listen(o.api_socket));
        SlirpSettings ss{o.mtu, o.ipv6, o.allow_host_loopback, o.dns_upstream.has_value()};
        loop = BOCK_TRY(EventLoop::create(ss));
        if (o.dns_upstream) {
            dns = std::make_unique<DnsForwarder>(*loop, *o.dns_upstream);
            loop->set_dns_forwarder(dns.get());
        }
        return ok();
    };
    if (o.netns_sock >= 0) BOCK_TRY(prepare());

    // 1. What to watch and join, opened while everything is visible: now
    //    when known (--netns-pid, --netns-path), else received later
    //    (--netns-sock: the engine opened the namespace, see
    //    Options::netns_sock), when the sandbox hides /proc.
    Fd watch, netns;
    if (o.netns_sock < 0) {
        if (o.watch_pid > 0) watch = BOCK_TRY_CTX(sys::pidfd_open(o.watch_pid), "watch the container's init");
        std::string path = o.netns_path.empty() ? fmt::format("/proc/{}/ns/net", o.netns_pid) : o.netns_path;
        netns = BOCK_TRY_CTX(sys::open(path, O_RDONLY), "open the container's network namespace");
    }

    // 2. The user namespace that owns it (single-threaded: setns requires it).
    if (!o.userns_path.empty()) {
        auto userns = BOCK_TRY_CTX(sys::open(o.userns_path, O_RDONLY), "open the user namespace");
        BOCK_TRY_CTX(sys::setns(userns.get(), CLONE_NEWUSER), fmt::format("join user namespace `{}`", o.userns_path));
    }

    // 3. The TAP, configured inside (ping for every group) by a thread
    //    started now, so that it keeps the mount namespace of before the
    //    sandbox (it opens /dev/net/tun and /proc/sys, and forks nft). It
    //    is handed the namespace's fd over a pipe, at once or once
    //    received; EOF: nothing to do (a way out before that). Joined on
    //    every way out.
    //    With the pid known from the start, the same thread first does
    //    step 4 (its host sockets are bound before it joins the
    //    container's namespace): on two cores, a third thread for it only
    //    took turns with these two.
    TapConfig tc{o.tap_name, o.mtu, o.ipv6, o.set_ping_group_range};
    OutboundRedirect redirect;
    Result<Fd> tap = make_error("not run");
    Result<void> prepared = ok();
    bool prepare_first = !loop;
    FdPair handoff = BOCK_TRY(sys::pipe());
    std::jthread tap_thread([&, in = handoff.first.get()] {
        if (prepare_first && !(prepared = prepare())) return;
        int fd = -1;
        if (sys::raw::read_all(in, &fd, sizeof fd) == static_cast<int>(sizeof fd))
            tap = open_tap_in(fd, tc, o.allow_host_loopback, &redirect);
    });
    // Declared after the thread: closed (EOF for it) before it is joined.
    Fd handoff_w = std::move(handoff.second);
    if (netns && !o.forward_only) hand_over(handoff_w, netns.get());
    if (o.forward_only) handoff_w.reset();  // EOF: the TAP thread has nothing to do

    // 5. Lock down: this thread's mount namespace (the TAP thread keeps the
    //    old one), then the forwarder threads, started side by side (each
    //    joins its namespace and drops its own privileges), then ours and
    //    the seccomp filter for all. With --netns-sock the sandbox is built
    //    before the pid comes, off the container's start path.
    auto sandboxed = o.sandbox ? enter_mount_sandbox() : ok();
    stage("sandbox");
    if (!sandboxed) return std::move(sandboxed).error();
    // 6. The forwarder threads, which share the sandbox's mount namespace
    //    (so started only now): the inside one joins the container's
    //    network namespace (with --netns-sock as soon as it is handed the
    //    fd, being started before the pid comes), the outbound one (host
    //    loopback allowed) stays in the host's. Each drops its own
    //    privileges.
    FdPair fw_handoff = BOCK_TRY(sys::pipe());
    auto fw = BOCK_TRY(Forwarder::launch(netns ? netns.get() : -1, netns ? -1 : fw_handoff.first.get()));
    std::unique_ptr<Forwarder> outbound;
    if (o.allow_host_loopback) outbound = BOCK_TRY(Forwarder::launch(-1));
    // Declared after the forwarder: closed (EOF for it) before it stops.
    Fd fw_handoff_w = std::move(fw_handoff.second);
    if (o.netns_sock >= 0) {
        auto target = BOCK_TRY(receive_target(o.netns_sock));
        o.netns_sock = -1;
        if (target.pid == 0) {
            log::debug("no pid on the netns socket: the engine gave up");
            return ok();
        }
        stage("pid");
        if (!target.netns)
            return make_error("no network namespace came with pid {} on the netns socket", target.pid)
                .with_hint("send the fd of /proc/PID/ns/net with the pid (SCM_RIGHTS)");
        netns = std::move(target.netns);
        if (!o.forward_only) hand_over(handoff_w, netns.get());
        hand_over(fw_handoff_w, netns.get());
        if (o.watch_pid == 0) o.watch_pid = target.pid;
        watch = BOCK_TRY_CTX(sys::pidfd_open(o.watch_pid), "watch the container's init");
    }
    tap_thread.join();
    stage("tap");
    if (!prepared) return std::move(prepared).error();
    if (!o.forward_only) {
        if (!tap) return std::move(tap).error();
        loop->set_tap(std::move(*tap));
    }
    if (o.sandbox) BOCK_TRY(drop_privileges());
    BOCK_TRY(fw->wait_started());
    netns.reset();
    ports.attach(fw.get());
    Fd nft_exit;
    if (outbound) BOCK_TRY(outbound->wait_started());
    if (outbound && redirect.listener) {
        outbound->add(0, Forward{}, std::move(redirect.listener), Forwarder::Target::original_destination);
        nft_exit = BOCK_TRY(sys::pidfd_open(redirect.nft.get()));
    }
    stage("forwarders");
    if (o.seccomp) BOCK_TRY(load_seccomp_filter());

    // 7. Serve; stop when the exit fd closes or init exits.
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
    if (nft_exit) {
        loop->watch(nft_exit.get(), POLLIN, [&](short) {
            auto status = redirect.nft.wait();
            if (status && exit_code_from_status(*status) != 0)
                log::info("nft failed: connections to the host's loopback go through libslirp");
            loop->unwatch(nft_exit.get());
        });
    }
    if (api) api->serve(*loop, ports);
    BOCK_TRY(write_ready(o.ready_fd));
    stage("ready");
    redirect.go();
    // Idle from here: the code it ran to start need not stay resident (a
    // second on, when the nft child and the first packets are done).
    loop->after(1000, [] { shed_startup_pages(); });
    auto r = loop->run();
    // Stopping: the listeners first (the forwarders own them) and the API
    // socket, then the ready fd says so. Closing the TAP (the loop's) takes
    // the kernel ~10 ms (the device is unregistered): nobody waits for it.
    api.reset();
    fw.reset();
    outbound.reset();
    if (o.ready_fd >= 0) ::close(o.ready_fd);
    return r;
}

}  // namespace bock::netns
