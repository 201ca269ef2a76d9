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

#include <charconv>
#include <chrono>
#include <thread>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/paths.hpp"
#include "bock/common/sys.hpp"
#include "network_setup.hpp"

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

Result<uint16_t> free_host_port(const std::string& ip, const std::string& proto) {
    bool v6 = ip.find(':') != std::string::npos;
    Fd s(::socket(v6 ? AF_INET6 : AF_INET, (proto == "udp" ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0));
    if (!s) return errno_error("pick a free host port");
    sockaddr_storage ss{};
    socklen_t len;
    if (v6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        a->sin6_family = AF_INET6;
        if (!ip.empty()) ::inet_pton(AF_INET6, ip.c_str(), &a->sin6_addr);
        len = sizeof *a;
    } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        a->sin_family = AF_INET;
        if (!ip.empty()) ::inet_pton(AF_INET, ip.c_str(), &a->sin_addr);
        len = sizeof *a;
    }
    if (::bind(s.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
        ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&ss), &len) != 0)
        return errno_error("pick a free host port");
    return ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

}  // namespace

Result<NetworkMode> parse_network(const std::string& typed, bool rootless) {
    NetworkMode m;
    if (typed.empty()) {
        m.kind = rootless ? "slirp4netns" : "none";
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
    if (kind == "bridge" || kind == "private" || kind == "slirp")
        return make_error("--network {}: bridge and named networks come with the service networks issue", kind)
            .with_hint("use slirp4netns (the rootless default), none, host, container:NAME or ns:PATH");
    return make_error("--network {}: named networks come with the service networks issue", kind)
        .with_hint("use slirp4netns (the rootless default), none, host, container:NAME or ns:PATH");
}

Result<PortMapping> parse_publish(const std::string& typed) {
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
    auto cport = parse_port(parts.back());
    if (!cport) return make_error("-p {}: `{}` is not a port (1-65535)", typed, parts.back());
    p.container_port = *cport;
    if (host_port.empty()) {
        p.host_port = BOCK_TRY(free_host_port(p.host_ip, p.proto));
    } else {
        auto hp = parse_port(host_port);
        if (!hp) return make_error("-p {}: `{}` is not a port (1-65535)", typed, host_port);
        p.host_port = *hp;
    }
    return p;
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
    hosts += (f.dns.empty() ? "127.0.1.1" : "10.0.2.100") + std::string("\t") + f.hostname + "\n";
    struct File {
        const char* name;
        std::string text;
    };
    for (const auto& file : {File{"resolv.conf", resolv}, File{"hosts", hosts}, File{"hostname", f.hostname + "\n"}}) {
        std::string path = dir + "/" + file.name;
        BOCK_TRY(fs::write_file_atomic(path, file.text, 0644));
        spec.mounts.push_back(runtime::Mount{std::string("/etc/") + file.name, "bind", path, {"rbind", "rprivate"}});
    }
    return ok();
}

Result<NetnsHelper> NetnsHelper::start(pid_t pid, const HelperOptions& o) {
    std::string exe = BOCK_TRY(paths::helper_path("bock-netns"));
    FdPair ready = BOCK_TRY(sys::pipe());
    FdPair exitp = BOCK_TRY(sys::pipe());
    std::vector<std::string> argv = {exe, "--netns-pid", std::to_string(pid), "--ready-fd", "3", "--exit-fd", "4"};
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
    Fd exit_r(::fcntl(exitp.first.get(), F_DUPFD_CLOEXEC, 10));
    ready.second.reset();
    exitp.first.reset();
    if (!ready_w || !exit_r) return errno_error("start bock-netns");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, o.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 2, 1);
    posix_spawn_file_actions_adddup2(&fa, ready_w.get(), 3);
    posix_spawn_file_actions_adddup2(&fa, exit_r.get(), 4);
    pid_t child = -1;
    int rc = ::posix_spawn(&child, exe.c_str(), &fa, nullptr, a.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return Error(rc, fmt::format("start `{}`", exe));
    NetnsHelper h;
    h.pid_ = Pid(child);
    h.exit_w_ = std::move(exitp.second);
    h.api_socket_ = o.api_socket;
    ready_w.reset();
    exit_r.reset();
    pollfd p{ready.first.get(), POLLIN, 0};
    int n;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    do {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        n = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
    } while (n < 0 && errno == EINTR);
    char c = 0;
    bool ok_ = n == 1 && ::read(ready.first.get(), &c, 1) == 1 && c == '1';
    if (!ok_) {
        h.stop();
        std::string err = fs::read_file(o.log).value_or("");
        while (!err.empty() && err.back() == '\n') err.pop_back();
        // The helper's own lines start with "bock-netns: error: " or similar.
        std::string msg = n == 0 ? "bock-netns was not ready within 10 s" : "bock-netns failed";
        if (!err.empty()) msg += ": " + err;
        return make_error("{}", msg).with_hint(fmt::format("the helper's log is `{}`", o.log));
    }
    return h;
}

void NetnsHelper::stop() {
    exit_w_.reset();
    if (pid_.valid()) {
        // It exits at once when its exit fd closes; reap it, or kill it
        // after 2 s.
        int status = 0;
        pid_t p = pid_.get();
        for (int i = 0; i < 200; ++i) {
            pid_t r = ::waitpid(p, &status, WNOHANG);
            if (r == p || (r < 0 && errno == ECHILD)) {
                pid_.detach();
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(i < 20 ? 1 : 10));
        }
        pid_ = Pid();  // kills and reaps what is left
    }
    if (!api_socket_.empty()) {
        ::unlink(api_socket_.c_str());
        api_socket_.clear();
    }
}

}  // namespace bock::engine
