// --network and -p parsing, the network files and the bock-netns helper.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/paths.hpp"
#include "bock/common/strings.hpp"
#include "bock/common/sys.hpp"
#include "bock/runtime/state.hpp"
#include "network_setup.hpp"
#include "svcnet_internal.hpp"

extern char** environ;

namespace bock::engine {
namespace {

std::optional<uint16_t> parse_port(std::string_view s) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty() || v == 0 || v > 65535) return std::nullopt;
    return static_cast<uint16_t>(v);
}

bool is_ip(const std::string& s) {
    unsigned char buf[16];
    return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// Binds `port` (0: any) on `ip` to see that it is free; the port bound.
Result<uint16_t> free_host_port(const std::string& ip, const std::string& proto, uint16_t port = 0) {
    bool v6 = ip.find(':') != std::string::npos;
    Fd s(::socket(v6 ? AF_INET6 : AF_INET, (proto == "udp" ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0));
    if (!s) return errno_error("pick a free host port");
    sockaddr_storage ss{};
    socklen_t len;
    if (v6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        a->sin6_family = AF_INET6;
        if (!ip.empty()) ::inet_pton(AF_INET6, ip.c_str(), &a->sin6_addr);
        a->sin6_port = htons(port);
        len = sizeof *a;
    } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        a->sin_family = AF_INET;
        if (!ip.empty()) ::inet_pton(AF_INET, ip.c_str(), &a->sin_addr);
        a->sin_port = htons(port);
        len = sizeof *a;
    }
    if (::bind(s.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
        ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&ss), &len) != 0)
        return errno_error("pick a free host port");
    return ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

// "P" or "P1-P2" (P1 <= P2): the first and last port.
std::optional<std::pair<uint16_t, uint16_t>> parse_port_range(std::string_view s) {
    auto dash = s.find('-');
    auto a = parse_port(s.substr(0, dash));
    if (!a) return std::nullopt;
    if (dash == std::string_view::npos) return std::pair{*a, *a};
    auto b = parse_port(s.substr(dash + 1));
    if (!b || *b < *a) return std::nullopt;
    return std::pair{*a, *b};
}

}  // namespace

Result<NetworkMode> parse_network(const std::string& typed, bool rootless) {
    NetworkMode m;
    if (typed.empty()) {
        // Rootless: bock-netns. Root: the network `bock` on a host bridge
        // (bock0), made on first use, as podman's `podman` network.
        if (rootless) {
            m.kind = "slirp4netns";
        } else {
            m.kind = "svcnet";
            m.target = kBridgeNetwork;
            m.make_default = true;
        }
        return m;
    }
    auto colon = typed.find(':');
    std::string kind = typed.substr(0, colon);
    std::string rest = colon == std::string::npos ? "" : typed.substr(colon + 1);
    if (kind == "none" || kind == "host") {
        if (colon != std::string::npos) return make_error("--network {}: takes no options", kind);
        m.kind = kind;
        return m;
    }
    if (kind == "slirp4netns") {
        m.kind = kind;
        size_t pos = 0;
        while (colon != std::string::npos && pos <= rest.size()) {
            auto comma = rest.find(',', pos);
            std::string opt = rest.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
            pos = comma == std::string::npos ? rest.size() + 1 : comma + 1;
            if (opt.empty()) continue;
            if (opt == "allow_host_loopback=true" || opt == "allow_host_loopback") {
                m.allow_host_loopback = true;
            } else if (opt == "allow_host_loopback=false") {
                m.allow_host_loopback = false;
            } else {
                return make_error("--network slirp4netns: option `{}` is not supported", opt)
                    .with_hint("supported: allow_host_loopback=true|false");
            }
        }
        return m;
    }
    if (kind == "container" || kind == "ns") {
        if (rest.empty()) return make_error("--network {}: needs {}", kind, kind == "ns" ? "a PATH" : "a NAME");
        m.kind = kind;
        m.target = rest;
        return m;
    }
    if (kind == "pasta")
        return make_error("--network pasta is not supported, use slirp4netns")
            .with_hint("bock's slirp4netns is bock-netns, which splices published ports as pasta does");
    if (kind == "bridge" && colon == std::string::npos && !rootless) {
        m.kind = "svcnet";
        m.target = kBridgeNetwork;
        m.make_default = true;
        return m;
    }
    if (colon == std::string::npos && kind != "bridge" && kind != "private" && kind != "slirp") {
        // Service networks by name (svcnet.hpp), several separated by commas.
        for (const auto& name : strings::split(typed, ','))
            if (!svcnet::valid_name(name))
                return make_error("--network {}: `{}` is not a network mode or a network name", typed, name)
                    .with_hint("use slirp4netns (the rootless default), none, host, container:NAME, ns:PATH or the "
                               "name of a network made with `bock network create`");
        m.kind = "svcnet";
        m.target = typed;
        return m;
    }
    if (kind == "bridge" || kind == "private" || kind == "slirp")
        return make_error("--network {}: not supported yet rootless (as root it is the network `{}`)", kind,
                          kBridgeNetwork)
            .with_hint("create a service network (`bock network create NAME`) and use --network NAME");
    return make_error("--network {}: not a network mode", typed)
        .with_hint("use slirp4netns (the rootless default), none, host, container:NAME, ns:PATH or a network name");
}

Result<std::vector<PortMapping>> parse_publish(const std::string& typed) {
    PortMapping p;
    std::string s = typed;
    if (auto slash = s.rfind('/'); slash != std::string::npos) {
        p.proto = s.substr(slash + 1);
        s = s.substr(0, slash);
        if (p.proto != "tcp" && p.proto != "udp")
            return make_error("-p {}: protocol `{}` is not tcp or udp", typed, p.proto);
    }
    std::vector<std::string> parts;
    if (!s.empty() && s[0] == '[') {
        auto close = s.find(']');
        if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':')
            return make_error("-p {}: an IPv6 address is written [ADDR]:HOST:CONTAINER", typed);
        parts.push_back(s.substr(1, close - 1));
        s = s.substr(close + 2);
    }
    size_t pos = 0;
    for (;;) {
        auto c = s.find(':', pos);
        parts.push_back(s.substr(pos, c == std::string::npos ? std::string::npos : c - pos));
        if (c == std::string::npos) break;
        pos = c + 1;
    }
    std::string host_port;
    if (parts.size() == 1) {
        // CONTAINER
    } else if (parts.size() == 2) {
        // HOST:CONTAINER, or IP:CONTAINER when HOST is an address
        if (is_ip(parts[0])) p.host_ip = parts[0];
        else host_port = parts[0];
    } else if (parts.size() == 3) {
        p.host_ip = parts[0];
        host_port = parts[1];
    } else {
        return make_error("-p {}: expected [IP:][HOST:]CONTAINER[/tcp|udp]", typed);
    }
    if (!p.host_ip.empty() && !is_ip(p.host_ip)) return make_error("-p {}: `{}` is not an IP address", typed, p.host_ip);
    auto cports = parse_port_range(parts.back());
    if (!cports)
        return make_error("-p {}: `{}` is not a port (1-65535) or a range of them (8080-8090)", typed, parts.back());
    unsigned count = cports->second - cports->first + 1u;
    std::vector<PortMapping> out;
    if (host_port.empty()) {  // each a free port of the host's
        for (unsigned i = 0; i < count; ++i) {
            p.container_port = static_cast<uint16_t>(cports->first + i);
            p.host_port = BOCK_TRY(free_host_port(p.host_ip, p.proto));
            out.push_back(p);
        }
        return out;
    }
    auto hports = parse_port_range(host_port);
    if (!hports)
        return make_error("-p {}: `{}` is not a port (1-65535) or a range of them (8080-8090)", typed, host_port);
    unsigned hcount = hports->second - hports->first + 1u;
    if (count == 1 && hcount > 1) {  // one container port: the first free port of the host's range
        p.container_port = cports->first;
        for (unsigned port = hports->first; port <= hports->second; ++port)
            if (free_host_port(p.host_ip, p.proto, static_cast<uint16_t>(port))) {
                p.host_port = static_cast<uint16_t>(port);
                out.push_back(p);
                return out;
            }
        return make_error("-p {}: every port of {} is in use", typed, host_port)
            .with_hint("name a range with a free port, or leave the host port out for any free one");
    }
    if (hcount != count)
        return make_error("-p {}: {} host ports for {} container ports", typed, hcount, count)
            .with_hint("give ranges of the same length (8080-8081:80-81), or one container port");
    for (unsigned i = 0; i < count; ++i) {
        p.host_port = static_cast<uint16_t>(hports->first + i);
        p.container_port = static_cast<uint16_t>(cports->first + i);
        out.push_back(p);
    }
    return out;
}

std::string helper_publish_spec(const PortMapping& p) {
    std::string ip = p.host_ip.find(':') != std::string::npos ? "[" + p.host_ip + "]" : p.host_ip;
    return fmt::format("{}{}{}:{}/{}", ip, ip.empty() ? "" : ":", p.host_port, p.container_port, p.proto);
}

std::string port_text(const PortMapping& p) {
    std::string ip = p.host_ip.empty() ? "0.0.0.0" : p.host_ip;
    if (ip.find(':') != std::string::npos) ip = "[" + ip + "]";
    return fmt::format("{}/{} -> {}:{}", p.container_port, p.proto, ip, p.host_port);
}

Result<void> write_network_files(const std::string& dir, const NetworkFiles& f, runtime::Spec& spec) {
    std::string resolv;
    for (const auto& d : f.dns) resolv += "nameserver " + d + "\n";
    if (!f.dns_search.empty()) {
        resolv += "search";
        for (const auto& s : f.dns_search) resolv += " " + s;
        resolv += "\n";
    }
    if (!f.dns_option.empty()) {
        resolv += "options";
        for (const auto& s : f.dns_option) resolv += " " + s;
        resolv += "\n";
    }
    std::string hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
    for (const auto& h : f.add_host) {
        auto c = h.find(':');
        if (c == std::string::npos || c == 0 || c + 1 == h.size())
            return make_error("--add-host {}: expected NAME:IP", h);
        std::string ip = h.substr(c + 1);
        if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
        if (!is_ip(ip)) return make_error("--add-host {}: `{}` is not an IP address", h, ip);
        hosts += ip + "\t" + h.substr(0, c) + "\n";
    }
    if (f.host_loopback) hosts += "10.0.2.2\thost.containers.internal host.docker.internal\n";
    hosts += (!f.self_ip.empty() ? f.self_ip : f.dns.empty() ? "127.0.1.1" : "10.0.2.100") + std::string("\t") +
             f.hostname + "\n";
    struct File {
        const char* name;
        std::string text;
    };
    for (const auto& file : {File{"resolv.conf", resolv}, File{"hosts", hosts}, File{"hostname", f.hostname + "\n"}}) {
        std::string path = dir + "/" + file.name;
        // A new file in the container's fresh bundle: no temporary file,
        // no fsync (the run root is emptied by a reboot anyway).
        BOCK_TRY(fs::write_file(path, file.text));
        spec.mounts.push_back(runtime::Mount{std::string("/etc/") + file.name, "bind", path, {"rbind", "rprivate"}});
    }
    return ok();
}

Result<std::string> mount_targets_layer(const std::string& store_root, const std::vector<std::string>& names) {
    std::string key;
    for (const auto& n : names) key += (key.empty() ? "" : "+") + n;
    std::string dir = fs::join(store_root, "mount-targets/" + key);
    if (fs::exists(dir)) return dir;
    // Made once per store, then shared read-only by every container: in a
    // temporary directory, renamed into place (a concurrent bock that won
    // the race leaves ours to be removed).
    std::string tmp = fmt::format("{}.tmp-{}", dir, ::getpid());
    BOCK_TRY(fs::remove_all(tmp));
    BOCK_TRY(fs::mkdir_p(tmp + "/etc", 0755));
    for (const auto& n : names) BOCK_TRY(fs::write_file(tmp + "/etc/" + n, ""));
    if (::rename(tmp.c_str(), dir.c_str()) != 0) {
        int e = errno;
        (void)fs::remove_all(tmp);
        if (e != EEXIST && e != ENOTEMPTY) return Error(e, fmt::format("rename `{}` to `{}`", tmp, dir));
    }
    return dir;
}

std::string netns_api_socket(const Context& ctx, const std::string& id) {
    std::string path = ctx.run_root + "/containers/" + id.substr(0, 12) + ".netns.sock";
    return path.size() < 100 ? path : "";
}

Result<NetnsHelper> NetnsHelper::spawn(const HelperOptions& o) {
    std::string exe = BOCK_TRY(paths::helper_path("bock-netns"));
    FdPair ready = BOCK_TRY(sys::pipe());
    // A socket, not a pipe: the container's network namespace goes with its
    // pid (SCM_RIGHTS), and writing to a helper that already failed (a port
    // in use) gives EPIPE, not SIGPIPE.
    FdPair nsp = BOCK_TRY(sys::socketpair_seqpacket());
    // No --exit-fd: the helper lives as long as the container's init (a
    // pidfd of it), not as long as this process.
    std::vector<std::string> argv = {exe, "--netns-sock", "4", "--ready-fd", "3"};
    if (!o.api_socket.empty()) argv.insert(argv.end(), {"--api-socket", o.api_socket});
    if (!o.dns_upstream.empty()) argv.insert(argv.end(), {"--dns-upstream", o.dns_upstream});
    if (o.allow_host_loopback) argv.push_back("--allow-host-loopback");
    for (const auto& p : o.ports) argv.insert(argv.end(), {"--publish", helper_publish_spec(p)});
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(s.data());
    a.push_back(nullptr);
    // dup2 onto 3 and 4 clears close-on-exec; the originals may be 3 or 4
    // themselves, so they are moved out of the way first.
    Fd ready_w(::fcntl(ready.second.get(), F_DUPFD_CLOEXEC, 10));
    Fd ns_r(::fcntl(nsp.first.get(), F_DUPFD_CLOEXEC, 10));
    ready.second.reset();
    nsp.first.reset();
    if (!ready_w || !ns_r) return errno_error("start bock-netns");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, o.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 2, 1);
    posix_spawn_file_actions_adddup2(&fa, ready_w.get(), 3);
    posix_spawn_file_actions_adddup2(&fa, ns_r.get(), 4);
    // Its own process group: a ^C meant for the container (forwarded by
    // bock) does not reach it; it stops when the container does.
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&at, 0);
    pid_t child = -1;
    int rc = ::posix_spawn(&child, exe.c_str(), &fa, &at, a.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (rc != 0) return Error(rc, fmt::format("start `{}`", exe));
    NetnsHelper h;
    h.pid_ = Pid(child);
    h.ns_w_ = std::move(nsp.second);
    h.ready_ = std::move(ready.first);
    h.log_ = o.log;
    h.api_socket_ = o.api_socket;
    return h;
}

Result<void> NetnsHelper::attach(pid_t pid, int netns_fd) {
    Fd sock = std::move(ns_w_);
    // Opened by the container's creator right after the clone (the
    // runtime's, or here when it had none): the container has not changed
    // its ids yet, so its namespace opens. The helper could not open it
    // later when the container has a user namespace of its own
    // (--userns=auto, --uidmap, keep-id, ns:PATH): then its init runs as
    // another id and, until it execs, is not dumpable (docs/netns-helper.md).
    Fd opened;
    if (netns_fd < 0) {
        auto ns = sys::open(fmt::format("/proc/{}/ns/net", pid), O_RDONLY);
        if (!ns) return std::move(ns).error().wrap("open the container's network namespace");
        opened = std::move(*ns);
        netns_fd = opened.get();
    }
    std::string text = std::to_string(pid) + "\n";
    ssize_t n = sys::raw::send_with_fd(sock.get(), text.data(), text.size(), netns_fd);
    // EPIPE: it has failed already; wait_ready() tells why.
    if (n < 0 && n != -EPIPE && n != -ECONNRESET)
        return Error(static_cast<int>(-n), "send bock-netns the container's network namespace");
    return ok();
}

Result<void> NetnsHelper::wait_ready() {
    pollfd p{ready_.get(), POLLIN, 0};
    int n;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    do {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        n = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
    } while (n < 0 && errno == EINTR);
    char c = 0;
    if (n == 1 && ::read(ready_.get(), &c, 1) == 1 && c == '1') {
        is_ready_ = true;
        return ok();
    }
    finish();
    std::string err = fs::read_file(log_).value_or("");
    while (!err.empty() && err.back() == '\n') err.pop_back();
    // The helper's own lines start with "bock-netns: error: " or similar.
    std::string msg = n == 0 ? "bock-netns was not ready within 10 s" : "bock-netns failed";
    if (!err.empty()) msg += ": " + err;
    return make_error("{}", msg).with_hint(fmt::format("the helper's log is `{}`", log_));
}

void NetnsHelper::finish() {
    if (!pid_.valid()) return;
    auto t0 = std::chrono::steady_clock::now();
    struct Unlink {
        std::string& path;
        ~Unlink() {
            if (!path.empty()) ::unlink(path.c_str());
            path.clear();
        }
    } unlink_socket{api_socket_};
    if (is_ready_ && ready_) {
        // EOF on the ready pipe: its listeners are closed.
        pollfd p{ready_.get(), POLLIN, 0};
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        for (;;) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) break;
            int n = ::poll(&p, 1, static_cast<int>(left.count()));
            if (n < 0 && errno == EINTR) continue;
            char b[16];
            if (n == 1 && ::read(ready_.get(), b, sizeof b) == 0) {
                ready_.reset();
                break;
            }
            if (n <= 0) break;
        }
        if (!ready_) {
            log::debug("waited {} us for bock-netns to close its ports",
                       std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
                           .count());
            // Then for its exit, which follows at once (its TAP is
            // persistent: closing it costs nothing; the namespace's
            // cleanup is the kernel's, asynchronous), so that nothing of
            // the container is left when bock returns.
            if (auto pfd = sys::pidfd_open(pid_.get())) {
                pollfd x{pfd->get(), POLLIN, 0};
                (void)::poll(&x, 1, 1000);
            }
            int status = 0;
            if (::waitpid(pid_.get(), &status, WNOHANG) != pid_.get())
                log::debug("bock-netns (pid {}) is still exiting", pid_.get());
            else
                log::debug("bock-netns exited {} us after the container",
                           std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
                               .count());
            pid_.detach();
            return;
        }
        log::warn("bock-netns (pid {}) did not stop with its container: killing it", pid_.get());
    }
    ns_w_.reset();
    ready_.reset();
    pid_ = Pid();  // killed and reaped
}

std::vector<int> NetnsHelper::fds() const {
    std::vector<int> out;
    for (const Fd* f : {&ns_w_, &ready_})
        if (*f) out.push_back(f->get());
    return out;
}

void NetnsHelper::detach() {
    ns_w_.reset();
    ready_.reset();
    api_socket_.clear();
    pid_.detach();
}

Result<ContainerNetwork> ContainerNetwork::resume(Context& ctx, const ContainerRecord& record,
                                                 const ContainerDirs& dirs) {
    ContainerNetwork n;
    n.store_root_ = ctx.store_root;
    n.detached_ = true;
    auto colon = record.network.find(':');
    n.mode_.kind = record.network.empty() ? "none" : record.network.substr(0, colon);
    if (colon != std::string::npos) n.mode_.target = record.network.substr(colon + 1);
    // Service networks are recorded by their names (describe()).
    static const char* const modes[] = {"none", "host", "slirp4netns", "container", "ns"};
    if (std::find(std::begin(modes), std::end(modes), n.mode_.kind) == std::end(modes)) {
        n.mode_.kind = "svcnet";
        n.mode_.target = record.network;
    }
    n.ports_ = record.ports;
    if (n.mode_.kind != "slirp4netns" && n.mode_.kind != "svcnet") return n;
    // Written by start() when the container was created.
    std::string path = fs::join(dirs.storage, "network.json");
    auto text = BOCK_TRY_CTX(fs::read_file(path), "read the container's network settings");
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object()) return make_error("`{}`: not a JSON object", path);
    n.mode_.allow_host_loopback = j.value("allow_host_loopback", false);
    n.dns_upstream_ = j.value("dns_upstream", "");
    if (n.mode_.kind == "svcnet") BOCK_TRY(n.resume_svcnet(ctx, record));
    return n;
}

Result<ContainerNetwork> ContainerNetwork::prepare(Context& ctx, const RunRequest& req) {
    ContainerNetwork n;
    n.store_root_ = ctx.store_root;
    n.mode_ = BOCK_TRY(parse_network(req.network, ctx.rootless));
    for (const auto& p : req.publish)
        for (auto& m : BOCK_TRY(parse_publish(p))) n.ports_.push_back(std::move(m));
    if (n.mode_.kind == "svcnet") BOCK_TRY(n.prepare_svcnet(ctx, req));
    if (!n.ports_.empty() && n.mode_.kind != "slirp4netns" && n.mode_.kind != "svcnet")
        return make_error("-p needs the slirp4netns network or a service network, not `{}`", n.mode_.kind)
            .with_hint("publish with the default network (slirp4netns rootless, the bridge network `bock` as root), "
                       "--network slirp4netns or --network NAME");
    n.dns_upstream_ = req.dns_upstream;
    if (n.dns_upstream_.empty())
        if (const char* e = std::getenv("BOCK_DNS_UPSTREAM")) n.dns_upstream_ = e;
    if (n.mode_.kind == "container") {
        auto other = BOCK_TRY(find_container(ctx, n.mode_.target));
        if (other.status != "running")
            return make_error("--network container:{}: the container is not running", n.mode_.target);
        auto pid_text = BOCK_TRY_CTX(fs::read_file(ContainerDirs::for_id(ctx, other.rec.id).pid_file()),
                                     fmt::format("--network container:{}: find its process", n.mode_.target));
        n.join_netns_ = fmt::format("/proc/{}/ns/net", std::atoi(pid_text.c_str()));
        n.mode_.target = other.rec.id;
    } else if (n.mode_.kind == "ns") {
        if (!fs::exists(n.mode_.target))
            return Error(ENOENT, fmt::format("--network ns:{}: no such file", n.mode_.target))
                .with_hint("name a network namespace file, e.g. /run/netns/NAME or /proc/PID/ns/net");
        n.join_netns_ = n.mode_.target;
    }
    if (n.mode_.kind == "slirp4netns" || n.mode_.kind == "svcnet") {
        n.files_.dns = req.dns.empty() ? std::vector<std::string>{"10.0.2.3"} : req.dns;
        if (n.mode_.kind == "svcnet" && req.dns.empty()) n.files_.dns = {n.svc_.front().gateway};
        n.files_.dns_search = req.dns_search;
        n.files_.dns_option = req.dns_option;
        n.files_.add_host = req.add_host;
        n.files_.host_loopback = n.mode_.allow_host_loopback;
    } else if (!req.dns.empty() || !req.dns_search.empty() || !req.dns_option.empty() || !req.add_host.empty()) {
        return make_error("--dns, --dns-search, --dns-option and --add-host need the slirp4netns network, not `{}`",
                          n.mode_.kind)
            .with_hint("with --network host or container:NAME the container uses that network's files");
    }
    return n;
}

void ContainerNetwork::describe(ContainerRecord& record) const {
    // Service networks by their names, as podman shows them.
    record.network = mode_.kind == "svcnet" ? mode_.target
                     : mode_.target.empty() ? mode_.kind
                                            : mode_.kind + ":" + mode_.target;
    record.ports = ports_;
}

namespace {
std::vector<std::string> mounted_files(const std::string& kind) {
    if (kind == "slirp4netns" || kind == "svcnet") return {"resolv.conf", "hosts", "hostname"};
    if (kind == "container") return {"resolv.conf", "hosts"};
    return {};
}
}  // namespace

Result<void> ContainerNetwork::add_mount_targets(layers::LayersSpec& ls) const {
    auto names = mounted_files(mode_.kind);
    if (names.empty()) return ok();
    auto dir = BOCK_TRY_CTX(mount_targets_layer(store_root_, names), "make the network files' mount targets");
    ls.lowers.push_back(dir);  // the top lower layer, under the upper directory
    return ok();
}

Result<void> ContainerNetwork::configure(const Context& ctx, const ContainerDirs& dirs, runtime::Spec& spec) const {
    // A new namespace (none, slirp4netns), the session's (host), or one
    // joined by path.
    if (mode_.kind != "none" && mode_.kind != "slirp4netns" && mode_.kind != "svcnet")
        for (auto it = spec.namespaces.begin(); it != spec.namespaces.end(); ++it)
            if (it->type == "network") {
                if (join_netns_.empty()) spec.namespaces.erase(it);
                else it->path = join_netns_;
                break;
            }
    if (mode_.kind == "slirp4netns" || mode_.kind == "svcnet") {
        NetworkFiles nf = files_;
        nf.hostname = spec.hostname;
        if (!svc_.empty() && !svc_.front().endpoints.empty()) nf.self_ip = svc_.front().endpoints.back().ipv4;
        // A container behind a monitor keeps them with its storage: a
        // restart after a reboot (an empty run root) binds them again.
        BOCK_TRY(write_network_files(detached_ ? dirs.storage : dirs.bundle, nf, spec));
    } else if (mode_.kind == "container") {
        // Its name resolution too, as podman does; a detached container
        // keeps its files in its storage directory.
        auto other = ContainerDirs::for_id(ctx, mode_.target);
        for (const char* f : {"resolv.conf", "hosts"})
            for (const auto& dir : {other.bundle, other.storage})
                if (fs::exists(dir + "/" + f)) {
                    spec.mounts.push_back(
                        runtime::Mount{std::string("/etc/") + f, "bind", dir + "/" + f, {"rbind", "rprivate"}});
                    break;
                }
    }
    return ok();
}

Result<void> ContainerNetwork::start(const Context& ctx, const ContainerDirs& dirs, ContainerRecord& record) {
    if (mode_.kind == "svcnet") return start_svcnet(ctx, dirs, record);
    if (mode_.kind != "slirp4netns") return ok();
    if (detached_) {
        nlohmann::json j = {{"allow_host_loopback", mode_.allow_host_loopback}, {"dns_upstream", dns_upstream_}};
        BOCK_TRY(fs::write_file_replace(fs::join(dirs.storage, "network.json"), j.dump(), 0600, false));
    }
    HelperOptions ho;
    ho.api_socket = netns_api_socket(ctx, dirs.id);
    // A previous helper's (a restart): it was stopped, its socket is left.
    if (!ho.api_socket.empty()) ::unlink(ho.api_socket.c_str());
    ho.log = dirs.bundle + "/netns.log";
    ho.dns_upstream = dns_upstream_;
    ho.allow_host_loopback = mode_.allow_host_loopback;
    ho.ports = ports_;
    auto h = NetnsHelper::spawn(ho);
    if (!h)
        return std::move(h).error().wrap("start the container's network").with_hint(
            "bock-netns is installed beside bock (or in ../libexec/bock); without it, use --network none");
    helper_ = std::make_unique<NetnsHelper>(std::move(*h));
    record.netns_pid = helper_->pid();
    record.netns_start = runtime::process_start_time(helper_->pid()).value_or(0);
    return ok();
}

std::vector<int> ContainerNetwork::inherited_fds() const { return helper_ ? helper_->fds() : std::vector<int>{}; }

void ContainerNetwork::attach(runtime::RunOptions& ro) {
    if (mode_.kind == "svcnet") return attach_svcnet(ro);
    if (!helper_) return;
    ro.on_spawned = [this](pid_t pid, int netns_fd) -> Result<void> {
        return helper_->attach(pid, netns_fd).context("start the container's network");
    };
    ro.on_created = [this](pid_t) -> Result<void> {
        auto t0 = std::chrono::steady_clock::now();
        BOCK_TRY_CTX(helper_->wait_ready(), "start the container's network");
        log::debug("waited {} us for bock-netns to be ready",
                   std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count());
        return ok();
    };
}

}  // namespace bock::engine
