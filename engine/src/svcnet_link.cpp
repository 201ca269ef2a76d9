// The service networks' data plane: one private network namespace per
// session (rootless), bind-mounted at
// <run_root>/svcnet/netns; a Linux bridge per network in it, with the
// gateway's address; a veth pair per container and network; a DNS
// responder (bock-dns, docs/svcnet-dns.md) per network listening on the
// gateway (docs/networking.md, "Service networks"). As real root the
// bridges are the host's instead (svcnet_host.cpp): no private namespace,
// no outbound helper but a forward-only one for published ports.
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <optional>
#include <thread>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/netlink.hpp"
#include "bock/common/paths.hpp"
#include "bock/common/pid.hpp"
#include "bock/common/subprocess.hpp"
#include "bock/common/sys.hpp"
#include "bock/runtime/state.hpp"
#include "bock/userns/session.hpp"
#include "running.hpp"
#include "svcnet_internal.hpp"

extern char** environ;

namespace bock::engine::svcnet {
namespace {

constexpr long kNsfsMagic = 0x6e736673;

std::string netns_file(const Context& ctx) { return runtime_dir(ctx) + "/netns"; }
std::string responder_state(const Context& ctx, const std::string& network) {
    return runtime_dir(ctx) + "/" + network + ".dns";
}

// Runs fn on a short-lived thread that has joined the network namespace
// `fd` (-1: a new one, unshared). A thread, not this one: a process in the
// rootless user namespace may enter the namespaces it owns but never go
// back to the host's (setns needs CAP_SYS_ADMIN over it), and a thread's
// namespace goes with it. Processes it spawns start in that namespace.
Result<void> in_netns(int fd, const std::function<Result<void>()>& fn) {
    std::optional<Error> err;
    std::thread t([&] {
        auto e = fd >= 0 ? sys::setns(fd, CLONE_NEWNET) : sys::unshare(CLONE_NEWNET);
        if (!e) {
            err = std::move(e).error().wrap(fd >= 0 ? "enter a network namespace" : "make a network namespace");
            return;
        }
        if (auto r = fn(); !r) err = std::move(r).error();
    });
    t.join();
    if (err) return std::move(*err);
    return ok();
}

bool is_nsfs(const std::string& path) {
    struct statfs sf{};
    return ::statfs(path.c_str(), &sf) == 0 && sf.f_type == kNsfsMagic;
}

// The private namespace: made on first use (unshared by a short-lived
// thread, its nsfs file bind-mounted in the session's mount namespace), so
// it lives as long as the session, with no process of its own.
Result<Fd> private_netns(const Context& ctx) {
    std::string path = netns_file(ctx);
    if (!is_nsfs(path)) {
        BOCK_TRY(fs::mkdir_p(runtime_dir(ctx), 0700));
        auto guard = BOCK_TRY(FileLock::acquire(runtime_dir(ctx) + "/lock", FileLock::Mode::exclusive,
                                                "the service networks' namespace"));
        if (!is_nsfs(path)) {
            BOCK_TRY(fs::write_file(path, ""));
            BOCK_TRY_CTX(in_netns(-1, [&]() -> Result<void> {
                BOCK_TRY(sys::mount("/proc/thread-self/ns/net", path, nullptr, MS_BIND));
                auto nl = BOCK_TRY(Netlink::open());
                return nl.set_link_up(BOCK_TRY(nl.link_index("lo")), 0);
            }), "make the service networks' network namespace");
            log::debug("made the service networks' namespace at {}", path);
        }
    }
    return sys::open(path, O_RDONLY);
}

// Runs fn where the bridges are: the host's namespace as real root (this
// thread), else the private namespace (a thread that joined it).
Result<void> bridge_side(const Context& ctx, const std::function<Result<void>()>& fn) {
    if (host_mode(ctx)) return fn();
    Fd ns = BOCK_TRY(private_netns(ctx));
    return in_netns(ns.get(), fn);
}

}  // namespace

Result<void> add_v4(Netlink& nl, int index, const std::string& ip, int prefix) {
    auto a = parse_v4(ip);
    if (!a) return make_error("`{}` is not an IPv4 address", ip);
    in_addr x{htonl(*a)};
    return nl.add_address(index, AF_INET, &x, prefix);
}

Result<void> add_v6(Netlink& nl, int index, const std::string& ip, int prefix) {
    in6_addr x{};
    if (::inet_pton(AF_INET6, ip.c_str(), &x) != 1) return make_error("`{}` is not an IPv6 address", ip);
    return nl.add_address(index, AF_INET6, &x, prefix);
}

namespace {

struct ResponderState {
    pid_t pid = 0;
    uint64_t start = 0;
};

std::optional<ResponderState> read_state(const Context& ctx, const std::string& network) {
    auto text = fs::read_file(responder_state(ctx, network));
    if (!text) return std::nullopt;
    ResponderState s;
    unsigned long long start = 0;
    if (std::sscanf(text->c_str(), "%d %llu", &s.pid, &start) != 2) return std::nullopt;
    s.start = start;
    return s;
}

bool alive(const ResponderState& s) {
    auto st = runtime::process_start_time(s.pid);
    if (!st || *st != s.start) return false;
    // A zombie (the bock that started it still runs) answers nothing.
    auto stat = fs::read_file(fmt::format("/proc/{}/stat", s.pid));
    if (!stat) return false;
    auto close = stat->rfind(')');
    return close != std::string::npos && close + 2 < stat->size() && (*stat)[close + 2] != 'Z';
}

Result<void> start_responder(const Context& ctx, const ServiceNetwork& n, const std::string& upstream);

std::string outbound_state(const Context& ctx) { return runtime_dir(ctx) + "/outbound"; }
// Root: the container has DNAT rules for its published ports.
std::string dnat_marker(const Context& ctx, const std::string& container_id) {
    return runtime_dir(ctx) + "/" + container_id.substr(0, 12) + ".dnat";
}
// The outbound helper's API socket (published ports); empty when the path
// would not fit in sun_path.
std::string outbound_socket(const Context& ctx) {
    std::string path = runtime_dir(ctx) + "/outbound.sock";
    return path.size() < 100 ? path : "";
}

// Spawns `argv` with its stderr in `log` and a ready pipe on fd 3; waits
// (5 s at most) for "1". Returns the pid, left running in its own session.
Result<pid_t> spawn_ready(std::vector<std::string> argv, const std::string& log, const std::string& what) {
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(s.data());
    a.push_back(nullptr);
    FdPair ready = BOCK_TRY(sys::pipe());
    Fd ready_w(::fcntl(ready.second.get(), F_DUPFD_CLOEXEC, 10));
    ready.second.reset();
    if (!ready_w) return errno_error("start {}", what);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 2, 1);
    posix_spawn_file_actions_adddup2(&fa, ready_w.get(), 3);
    // Its own session: it outlives the bock that started it, untouched
    // by a ^C meant for a container.
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID);
    pid_t child = -1;
    int rc = ::posix_spawn(&child, a[0], &fa, &at, a.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    ready_w.reset();
    if (rc != 0) return Error(rc, fmt::format("start `{}`", argv[0]));
    Pid owned(child);
    pollfd p{ready.first.get(), POLLIN, 0};
    int pr;
    do pr = ::poll(&p, 1, 10000);
    while (pr < 0 && errno == EINTR);
    char c = 0;
    if (pr != 1 || ::read(ready.first.get(), &c, 1) != 1 || c != '1') {
        std::string err = fs::read_file(log).value_or("");
        while (!err.empty() && err.back() == '\n') err.pop_back();
        return make_error("{} did not start{}{}", what, err.empty() ? "" : ": ", err)
            .with_hint(fmt::format("its log is `{}`", log));
    }
    return owned.detach();
}

Result<void> add_watch(const Context& ctx, std::vector<std::string>& argv) {
    if (!ctx.rootless) return ok();
    if (auto holder = BOCK_TRY(userns::find_session(ctx.run_root)))
        argv.insert(argv.end(), {"--watch-pid", std::to_string(*holder)});
    return ok();
}

Result<void> start_responder(const Context& ctx, const ServiceNetwork& n, const std::string& upstream) {
    std::string exe = BOCK_TRY(paths::helper_path("bock-dns"));
    std::vector<std::string> argv = {exe, "--listen", n.gateway, "--hosts", hosts_file(ctx, n.name), "--ready-fd", "3"};
    // As real root it stays in the host's namespace, where the bridge is.
    if (!host_mode(ctx)) argv.insert(argv.end(), {"--netns", netns_file(ctx)});
    if (n.ipv6) argv.insert(argv.end(), {"--listen", n.gateway6});
    if (!upstream.empty()) argv.insert(argv.end(), {"--upstream", upstream});
    BOCK_TRY(add_watch(ctx, argv));
    pid_t pid = BOCK_TRY(spawn_ready(argv, responder_state(ctx, n.name) + ".log",
                                     fmt::format("the DNS responder of network `{}`", n.name)));
    auto start = runtime::process_start_time(pid).value_or(0);
    BOCK_TRY(fs::write_file_replace(responder_state(ctx, n.name), fmt::format("{} {}\n", pid, start), 0600, false));
    log::debug("network {}: DNS responder pid {} on {}", n.name, pid, n.gateway);
    return ok();
}

// The private namespace's forwarding rules, from every network's record:
// bridges to the outbound TAP (not --internal ones), answers back,
// nothing between bridges; the bridges' traffic masqueraded to the TAP's
// address (slirp answers only that one).
Result<void> write_rules(const Context& ctx, int ns) {
    std::string accept;
    for (const auto& f : fs::list_dir(networks_dir(ctx)).value_or(std::vector<std::string>{})) {
        if (!f.ends_with(".json")) continue;
        auto text = fs::read_file(networks_dir(ctx) + "/" + f);
        if (!text) continue;
        auto j = nlohmann::json::parse(*text, nullptr, false);
        if (j.is_discarded()) continue;
        std::string br = j.value("bridge", "");
        // Within one bridge (when br_netfilter sends bridged frames here).
        accept += fmt::format("    iifname \"{}\" oifname \"{}\" accept\n", br, br);
        if (!j.value("internal", false)) accept += fmt::format("    iifname \"{}\" oifname \"tap0\" accept\n", br);
    }
    std::string rules = "table ip bock {}\nflush table ip bock\ntable ip bock {\n"
                        "  chain forward {\n    type filter hook forward priority 0; policy drop;\n"
                        "    ct state established,related accept\n" + accept +
                        "  }\n  chain postrouting {\n    type nat hook postrouting priority 100;\n"
                        "    oifname \"tap0\" masquerade\n  }\n}\n";
    return in_netns(ns, [&]() -> Result<void> {
        // /proc/sys/net is the opening thread's namespace's.
        BOCK_TRY_CTX(fs::write_file("/proc/sys/net/ipv4/ip_forward", "1"),
                     "enable forwarding in the service networks' namespace");
        // nft spawned from this thread runs in the private namespace.
        SpawnOptions so;
        so.argv = {nft_program(), "-f", "-"};
        so.stdin_data = rules;
        so.capture_stderr = true;
        auto r = BOCK_TRY_CTX(run_program(so), "run nft");
        if (r.exit_code != 0)
            return make_error("nft refused the service networks' rules: {}", r.err)
                .with_hint("Debian's nftables package provides nft");
        return ok();
    });
}

Result<void> delete_tap(int ns) {
    return in_netns(ns, [&]() -> Result<void> {
        if (int idx = static_cast<int>(::if_nametoindex("tap0")); idx > 0) {
            auto nl = BOCK_TRY(Netlink::open());
            BOCK_TRY_CTX(nl.delete_link(idx), "remove the outbound helper's tap0");
        }
        return ok();
    });
}

// One bock-netns attached to the private namespace (its TAP, 10.0.2.100,
// the default route via slirp): the way out for every non-internal network.
Result<void> ensure_outbound(const Context& ctx, int ns) {
    if (auto s = fs::read_file(outbound_state(ctx))) {
        ResponderState st;
        unsigned long long start = 0;
        if (std::sscanf(s->c_str(), "%d %llu", &st.pid, &start) == 2) {
            st.start = start;
            if (alive(st)) return ok();
        }
    }
    std::string exe = BOCK_TRY(paths::helper_path("bock-netns"));
    std::vector<std::string> argv = {exe, "--ready-fd", "3", "--disable-ipv6", "--no-ping-group-range"};
    if (ns < 0) {
        // Real root: the host routes the way out; the helper only forwards
        // published ports, from the host's namespace (no TAP, no slirp).
        argv.insert(argv.end(), {"--netns-path", "/proc/self/ns/net", "--forward-only"});
    } else {
        // bock-netns's TAP is persistent: one left by a helper that died goes first.
        BOCK_TRY(delete_tap(ns));
        argv.insert(argv.end(), {"--netns-path", netns_file(ctx)});
    }
    // Published ports of the networks' containers are added through it.
    if (auto sock = outbound_socket(ctx); !sock.empty()) {
        ::unlink(sock.c_str());  // a previous helper's
        argv.insert(argv.end(), {"--api-socket", sock});
    }
    // Rootless, the namespace lives as long as the session: so do they.
    BOCK_TRY(add_watch(ctx, argv));
    pid_t pid = BOCK_TRY(spawn_ready(argv,
                                     runtime_dir(ctx) + "/outbound.log", "the service networks' bock-netns"));
    auto start = runtime::process_start_time(pid).value_or(0);
    BOCK_TRY(fs::write_file_replace(outbound_state(ctx), fmt::format("{} {}\n", pid, start), 0600, false));
    return ok();
}

}  // namespace

Result<void> stop_outbound(const Context& ctx) {
    if (auto s = fs::read_file(outbound_state(ctx))) {
        int pid = 0;
        unsigned long long start = 0;
        if (std::sscanf(s->c_str(), "%d %llu", &pid, &start) == 2 && !kill_and_wait(pid, start, 5000))
            return make_error("the service networks' bock-netns {} did not exit after SIGKILL", pid);
    }
    if (is_nsfs(netns_file(ctx))) {
        Fd ns = BOCK_TRY(sys::open(netns_file(ctx), O_RDONLY));
        BOCK_TRY(delete_tap(ns.get()));
    }
    if (auto sock = outbound_socket(ctx); !sock.empty()) ::unlink(sock.c_str());
    if (::unlink(outbound_state(ctx).c_str()) != 0 && errno != ENOENT) return errno_error("remove `{}`", outbound_state(ctx));
    return ok();
}

namespace {

// One request to the outbound helper's API (docs/netns-helper.md): a JSON
// line, one JSON line back; 5 s at most.
Result<nlohmann::json> outbound_call(const Context& ctx, const nlohmann::json& req) {
    std::string path = outbound_socket(ctx);
    if (path.empty())
        return make_error("the run root `{}` is too long for the outbound helper's socket", ctx.run_root)
            .with_hint("use a shorter --runroot to publish ports of service networks");
    Fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s) return errno_error("create a socket");
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    if (::connect(s.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0)
        return errno_error("connect to the service networks' bock-netns at `{}`", path)
            .with_hint(fmt::format("a helper started by an older bock has no API socket: remove every service "
                                   "network (`bock network rm`), which stops it; its log is `{}`",
                                   runtime_dir(ctx) + "/outbound.log"));
    std::string line = req.dump() + "\n";
    if (::send(s.get(), line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size()))
        return errno_error("send to the service networks' bock-netns");
    ::shutdown(s.get(), SHUT_WR);
    std::string reply;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        pollfd p{s.get(), POLLIN, 0};
        if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) == 0)
            return make_error("the service networks' bock-netns did not answer in 5 s");
        char buf[4096];
        ssize_t n = ::recv(s.get(), buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_error("read from the service networks' bock-netns");
        if (n == 0) break;
        reply.append(buf, static_cast<size_t>(n));
    }
    auto j = nlohmann::json::parse(reply, nullptr, false);
    if (!j.is_object()) return make_error("the service networks' bock-netns answered `{}`", reply);
    if (!j.value("ok", false)) {
        auto e = make_error("{}", j.value("error", std::string("refused")));
        if (j.contains("hint") && j["hint"].is_string()) return std::move(e).with_hint(j["hint"].get<std::string>());
        return e;
    }
    return j;
}

}  // namespace

Result<void> publish(const Context& ctx, const std::string& container_id, pid_t container_pid,
                     const std::string& ipv4, const std::vector<PortMapping>& ports) {
    if (host_mode(ctx)) {
        // Started with the first published port of the run root.
        BOCK_TRY(fs::mkdir_p(runtime_dir(ctx), 0700));
        auto guard = BOCK_TRY(FileLock::acquire(runtime_dir(ctx) + "/lock", FileLock::Mode::exclusive,
                                                "the service networks' helper"));
        BOCK_TRY(ensure_outbound(ctx, -1));
    }
    // A previous start's, if its helper did not see that container go yet.
    BOCK_TRY(outbound_call(ctx, {{"op", "remove_owner"}, {"owner", container_id}}));
    for (const auto& p : ports) {
        nlohmann::json req = {{"op", "add"},          {"spec", helper_publish_spec(p)}, {"container_ip", ipv4},
                              {"owner", container_id}, {"watch_pid", container_pid}};
        if (auto r = outbound_call(ctx, req); !r) {
            unpublish(ctx, container_id);
            return std::move(r).error();
        }
    }
    if (host_mode(ctx)) {
        // Traffic from other hosts to a non-loopback address goes through
        // DNAT rules instead (the server sees the client); the forwarder's
        // listener still reserves the port and serves the host's own
        // connections. The marker, written first (a bock killed in between
        // leaves a marker without rules, never rules without one), tells
        // `rm` there may be rules to delete.
        BOCK_TRY(fs::write_file(dnat_marker(ctx, container_id), ""));
        auto added = [&]() -> Result<bool> {
            auto host = BOCK_TRY(host_lock());
            return host_dnat_add(container_id, ipv4, ports);
        }();
        if (!added) {  // (the host lock released: unpublish takes it)
            unpublish(ctx, container_id);
            return std::move(added).error();
        }
        if (!*added) ::unlink(dnat_marker(ctx, container_id).c_str());
    }
    log::debug("container {}: {} port(s) published to {}", container_id.substr(0, 12), ports.size(), ipv4);
    return ok();
}

void unpublish(const Context& ctx, const std::string& container_id) {
    if (host_mode(ctx) && fs::exists(dnat_marker(ctx, container_id))) {
        auto removed = [&]() -> Result<void> {
            auto host = BOCK_TRY(host_lock());
            BOCK_TRY(host_dnat_remove(container_id));
            if (::unlink(dnat_marker(ctx, container_id).c_str()) != 0 && errno != ENOENT)
                return errno_error("remove `{}`", dnat_marker(ctx, container_id));
            return ok();
        }();
        if (!removed) log::warn("unpublish {}: {}", container_id.substr(0, 12), removed.error().to_string());
    }
    if (auto sock = outbound_socket(ctx); sock.empty() || !fs::exists(sock)) return;
    if (auto r = outbound_call(ctx, {{"op", "remove_owner"}, {"owner", container_id}}); !r)
        log::debug("unpublish {}: {}", container_id.substr(0, 12), r.error().to_string());
}

Result<void> remove_namespace(const Context& ctx) {
    std::string path = netns_file(ctx);
    if (!fs::exists(runtime_dir(ctx))) return ok();
    auto guard = BOCK_TRY(FileLock::acquire(runtime_dir(ctx) + "/lock", FileLock::Mode::exclusive,
                                            "the service networks' namespace"));
    // Its bind mount held it; the kernel frees it with its last link.
    if (is_nsfs(path)) BOCK_TRY_CTX(sys::umount(path, MNT_DETACH), "unmount the service networks' namespace");
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return errno_error("remove `{}`", path);
    return ok();
}

std::optional<pid_t> responder_pid(const Context& ctx, const std::string& network) {
    auto s = read_state(ctx, network);
    if (!s || !alive(*s)) return std::nullopt;
    return s->pid;
}

Result<void> ensure_up(const Context& ctx, const ServiceNetwork& n, const std::string& dns_upstream) {
    if (host_mode(ctx)) {
        {
            auto host = BOCK_TRY(host_lock());
            BOCK_TRY(host_bridge_up(ctx, n));
        }
        BOCK_TRY(fs::mkdir_p(runtime_dir(ctx), 0700));
        auto guard = BOCK_TRY(FileLock::acquire(runtime_dir(ctx) + "/lock", FileLock::Mode::exclusive,
                                                "the service networks' responders"));
        auto s = read_state(ctx, n.name);
        if (s && alive(*s)) return ok();
        BOCK_TRY(write_hosts(ctx, n));
        return start_responder(ctx, n, dns_upstream);
    }
    Fd ns = BOCK_TRY(private_netns(ctx));
    auto guard = BOCK_TRY(FileLock::acquire(runtime_dir(ctx) + "/lock", FileLock::Mode::exclusive,
                                            "the service networks' namespace"));
    BOCK_TRY(in_netns(ns.get(), [&]() -> Result<void> {
        if (::if_nametoindex(n.bridge.c_str()) != 0) return ok();
        auto nl = BOCK_TRY(Netlink::open());
        auto made = nl.add_bridge(n.bridge);
        if (!made && made.error().code() != EEXIST)
            return std::move(made).error().wrap(fmt::format("network `{}`: create bridge {}", n.name, n.bridge));
        int idx = BOCK_TRY(nl.link_index(n.bridge));
        BOCK_TRY_CTX(add_v4(nl, idx, n.gateway, parse_cidr(n.subnet)->prefix),
                     fmt::format("network `{}`: the gateway's address", n.name));
        if (n.ipv6) BOCK_TRY_CTX(add_v6(nl, idx, n.gateway6, 64), fmt::format("network `{}`: the IPv6 gateway", n.name));
        BOCK_TRY(nl.set_link_up(idx, 0));
        log::debug("network {}: bridge {} with {}", n.name, n.bridge, n.gateway);
        return ok();
    }));
    BOCK_TRY_CTX(write_rules(ctx, ns.get()), "the service networks' forwarding rules");
    if (!n.internal) BOCK_TRY(ensure_outbound(ctx, ns.get()));
    auto s = read_state(ctx, n.name);
    if (s && alive(*s)) return ok();
    BOCK_TRY(write_hosts(ctx, n));
    return start_responder(ctx, n, dns_upstream);
}

Result<void> plug(const Context& ctx, const ServiceNetwork& n, const Endpoint& ep, pid_t container_pid, int index) {
    Fd cns = BOCK_TRY_CTX(sys::open(fmt::format("/proc/{}/ns/net", container_pid), O_RDONLY),
                          "open the container's network namespace");
    std::string inside = "eth" + std::to_string(index);
    BOCK_TRY(bridge_side(ctx, [&]() -> Result<void> {
        auto nl = BOCK_TRY(Netlink::open());
        // A link left by a container that died before its namespace went
        // (the kernel removes the pair with the namespace, asynchronously).
        if (int old = static_cast<int>(::if_nametoindex(ep.link.c_str())); old > 0) (void)nl.delete_link(old);
        BOCK_TRY_CTX(nl.add_veth(ep.link, inside, cns.get()), fmt::format("network `{}`: a veth pair", n.name));
        int idx = BOCK_TRY(nl.link_index(ep.link));
        int br = BOCK_TRY_CTX(nl.link_index(n.bridge), fmt::format("network `{}`: its bridge", n.name));
        BOCK_TRY(nl.set_master(idx, br));
        return nl.set_link_up(idx, 0);
    }));
    return in_netns(cns.get(), [&]() -> Result<void> {
        auto nl = BOCK_TRY(Netlink::open());
        BOCK_TRY(nl.set_link_up(BOCK_TRY(nl.link_index("lo")), 0));
        int idx = BOCK_TRY(nl.link_index(inside));
        BOCK_TRY(add_v4(nl, idx, ep.ipv4, parse_cidr(n.subnet)->prefix));
        if (!ep.ipv6.empty()) BOCK_TRY(add_v6(nl, idx, ep.ipv6, 64));
        // A gratuitous ARP when it comes up: a container started again
        // (restart, stop/start) has the same address behind a new MAC, and
        // the neighbours on the bridge (the private namespace, for the way
        // out and published ports; the other containers) would otherwise
        // send to the old one until their entry expires (up to ~30 s).
        // /proc/sys/net is this thread's namespace's.
        if (auto r = fs::write_file(fmt::format("/proc/sys/net/ipv4/conf/{}/arp_notify", inside), "1"); !r)
            log::debug("{}: {}", inside, r.error().to_string());
        BOCK_TRY(nl.set_link_up(idx, 0));
        if (index == 0 && !n.internal) {
            in_addr gw{htonl(*parse_v4(n.gateway))};
            BOCK_TRY_CTX(nl.add_default_route(idx, AF_INET, &gw), "the default route");
        }
        return ok();
    });
}

std::string link_name(const std::string& container_id, const ServiceNetwork& n) {
    std::string number = n.bridge.starts_with("bock") ? n.bridge.substr(4) : n.bridge;
    return fmt::format("bk{}{}", container_id.substr(0, 8), number).substr(0, IFNAMSIZ - 1);
}

Result<int> free_inside_index(pid_t container_pid) {
    Fd cns = BOCK_TRY_CTX(sys::open(fmt::format("/proc/{}/ns/net", container_pid), O_RDONLY),
                          "open the container's network namespace");
    int index = 0;
    BOCK_TRY(in_netns(cns.get(), [&]() -> Result<void> {
        while (::if_nametoindex(("eth" + std::to_string(index)).c_str()) != 0) ++index;
        return ok();
    }));
    return index;
}

Result<void> unplug(const Context& ctx, const ServiceNetwork& n, const std::string& container_id) {
    if (!host_mode(ctx) && !is_nsfs(netns_file(ctx))) return ok();
    std::string link = link_name(container_id, n);
    return bridge_side(ctx, [&]() -> Result<void> {
        int idx = static_cast<int>(::if_nametoindex(link.c_str()));
        if (idx == 0) return ok();
        auto nl = BOCK_TRY(Netlink::open());
        // Both ends go: the container's eth<N> with it.
        return nl.delete_link(idx).context(fmt::format("network `{}`: remove the veth {}", n.name, link));
    });
}

Result<void> stop_responder(const Context& ctx, const ServiceNetwork& n) {
    if (auto s = read_state(ctx, n.name); s && !kill_and_wait(s->pid, s->start, 5000))
        return make_error("network `{}`: its DNS responder {} did not exit after SIGKILL", n.name, s->pid);
    for (const auto& f : {responder_state(ctx, n.name), responder_state(ctx, n.name) + ".log"})
        if (::unlink(f.c_str()) != 0 && errno != ENOENT) return errno_error("remove `{}`", f);
    return ok();
}

Result<void> take_down(const Context& ctx, const ServiceNetwork& n) {
    BOCK_TRY(stop_responder(ctx, n));
    if (host_mode(ctx)) {
        auto host = BOCK_TRY(host_lock());
        BOCK_TRY(host_bridge_down(ctx, n));
    } else if (is_nsfs(netns_file(ctx))) {
        Fd ns = BOCK_TRY(sys::open(netns_file(ctx), O_RDONLY));
        BOCK_TRY(in_netns(ns.get(), [&]() -> Result<void> {
            if (int idx = static_cast<int>(::if_nametoindex(n.bridge.c_str())); idx > 0) {
                auto nl = BOCK_TRY(Netlink::open());
                BOCK_TRY_CTX(nl.delete_link(idx), fmt::format("network `{}`: remove bridge {}", n.name, n.bridge));
            }
            return ok();
        }));
    }
    for (const auto& f : {responder_state(ctx, n.name), hosts_file(ctx, n.name), responder_state(ctx, n.name) + ".log"})
        if (::unlink(f.c_str()) != 0 && errno != ENOENT) return errno_error("remove `{}`", f);
    return ok();
}

}  // namespace bock::engine::svcnet
