// `bock run` with its network (bock-netns, docs/networking.md), as the
// unprivileged test user. Traffic goes only to the host's loopback or into
// the container's namespace; DNS always goes to the test's own resolver on
// 127.0.0.1 (--dns-upstream), never to the host's nameservers.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include <catch2/catch.hpp>

#include "bock/common/fd.hpp"
#include "bock/common/fs.hpp"
#include "bock/common/pid.hpp"
#include "testlib.hpp"

using namespace bock;
using namespace bock::test;

namespace {

const std::string kNoDns = "127.0.0.1:9";  // a closed port: nothing leaves

void require_tun() {
    if (::access("/dev/net/tun", R_OK | W_OK) != 0) skip("/dev/net/tun is not usable by this user");
}

Pid spawn_bock(const std::vector<std::string>& args, const std::string& log) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int devnull = ::open("/dev/null", O_RDONLY);
        ::dup2(devnull, 0);
        int l = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        ::dup2(l, 1);
        ::dup2(l, 2);
        std::vector<std::string> argv = {bin("bock")};
        argv.insert(argv.end(), args.begin(), args.end());
        std::vector<char*> a;
        for (auto& s : argv) a.push_back(s.data());
        a.push_back(nullptr);
        ::execv(a[0], a.data());
        ::_exit(127);
    }
    return Pid(pid);
}

bool wait_until(const std::function<bool()>& cond, int ms = 10000) {
    for (int i = 0; i < ms / 20; ++i) {
        if (cond()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return cond();
}

sockaddr_in v4(const char* ip, uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ::inet_pton(AF_INET, ip, &a.sin_addr);
    a.sin_port = htons(port);
    return a;
}

uint16_t free_port(int type = SOCK_STREAM) {
    Fd s(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
    auto a = v4("127.0.0.1", 0);
    socklen_t len = sizeof a;
    REQUIRE(::bind(s.get(), reinterpret_cast<sockaddr*>(&a), len) == 0);
    REQUIRE(::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len) == 0);
    return ntohs(a.sin_port);
}

std::string http_get(uint16_t port, const std::string& path, const char* source = nullptr) {
    Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    timeval tv{5, 0};
    ::setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (source) {
        auto src = v4(source, 0);
        REQUIRE(::bind(s.get(), reinterpret_cast<sockaddr*>(&src), sizeof src) == 0);
    }
    auto dst = v4("127.0.0.1", port);
    if (::connect(s.get(), reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) return "";
    std::string req = "GET " + path + " HTTP/1.0\r\n\r\n";
    if (::send(s.get(), req.data(), req.size(), MSG_NOSIGNAL) < 0) return "";
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(s.get(), buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
    return out;
}

bool port_bound(uint16_t port) {
    Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    auto a = v4("127.0.0.1", port);
    return ::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0;
}

// The container's httpd: /hello.txt and /cgi-bin/addr (the client address).
const char* kHttpdScript =
    "mkdir -p /www/cgi-bin && echo hello from the container > /www/hello.txt && "
    "printf '#!/bin/sh\\nprintf \"Content-Type: text/plain\\\\r\\\\n\\\\r\\\\nremote=%%s\\\\n\" \"$REMOTE_ADDR\"\\n' "
    "> /www/cgi-bin/addr && chmod 755 /www/cgi-bin/addr && exec httpd -f -p 8080 -h /www";

// The running container whose command mentions `word` (bock ps).
std::string running_id(const std::string& word) {
    auto ps = cli({"ps", "--format", "json"});
    REQUIRE(ps.code == 0);
    for (const auto& c : nlohmann::json::parse(ps.out)) {
        std::string cmd;
        for (const auto& a : c["Command"]) cmd += a.get<std::string>() + " ";
        if (cmd.find(word) != std::string::npos) return c["Id"].get<std::string>();
    }
    return "";
}

std::vector<pid_t> children_named(pid_t parent, const std::string& comm) {
    std::vector<pid_t> out;
    for (const auto& e : std::filesystem::directory_iterator("/proc")) {
        auto name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        auto stat = fs::read_file(e.path().string() + "/stat").value_or("");
        auto close = stat.rfind(')');
        if (close == std::string::npos) continue;
        std::string c = stat.substr(stat.find('(') + 1, close - stat.find('(') - 1);
        int ppid = 0;
        std::sscanf(stat.c_str() + close + 2, "%*c %d", &ppid);
        if (c == comm && (parent == 0 || ppid == parent)) out.push_back(std::stoi(name));
    }
    return out;
}

const char* kResolver = R"(
import socket, struct, sys
port_file, answer = sys.argv[1], socket.inet_aton(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
open(port_file + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(port_file + ".tmp", port_file)
while True:
    q, peer = s.recvfrom(4096)
    qid, flags, qd = struct.unpack("!HHH", q[:6])
    i = 12
    while q[i] != 0:
        i += q[i] + 1
    qtype = struct.unpack("!H", q[i + 1:i + 3])[0]
    question = q[12:i + 5]
    if qtype == 1:
        rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + answer
        s.sendto(struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + question + rr, peer)
    else:
        s.sendto(struct.pack("!HHHHHH", qid, 0x8180, 1, 0, 0, 0) + question, peer)
)";

}  // namespace

TEST_CASE("bock run reaches the host's loopback through host.containers.internal only when allowed", "[network]") {
    require_tun();
    std::string root = tmp_dir() + "/hostwww";
    REQUIRE(fs::mkdir_p(root));
    REQUIRE(fs::write_file(root + "/hello.txt", "hello from the host\n"));
    uint16_t port = free_port();
    pid_t p = ::fork();
    if (p == 0) {
        ::execl("/bin/busybox", "busybox", "httpd", "-f", "-p", fmt::format("127.0.0.1:{}", port).c_str(), "-h",
                root.c_str(), nullptr);
        ::_exit(127);
    }
    Pid httpd(p);
    REQUIRE(wait_until([&] { return !http_get(port, "/hello.txt").empty(); }));
    std::string url = fmt::format("http://host.containers.internal:{}/hello.txt", port);
    auto allowed = cli({"run", "--rm", "--dns-upstream", kNoDns, "--network", "slirp4netns:allow_host_loopback=true",
                        "busybox", "sh", "-c", "cat /etc/hosts; wget -qO- " + url});
    INFO(allowed.err);
    CHECK(allowed.code == 0);
    CHECK_THAT(allowed.out, Catch::Contains("10.0.2.2\thost.containers.internal"));
    CHECK_THAT(allowed.out, Catch::Contains("hello from the host"));
    auto refused = cli({"run", "--rm", "--dns-upstream", kNoDns, "busybox", "sh", "-c",
                        fmt::format("grep -c host.containers.internal /etc/hosts; nc -w 3 10.0.2.2 {} </dev/null && echo connected || echo refused", port)});
    CHECK_THAT(refused.out, Catch::Contains("0\n"));
    CHECK_THAT(refused.out, Catch::Contains("refused"));
    CHECK_THAT(refused.out, !Catch::Contains("connected"));
}

TEST_CASE("bock run's DNS goes to --dns-upstream; resolv.conf, hosts and hostname are written", "[network]") {
    require_tun();
    std::string script = tmp_dir() + "/resolver.py", port_file = tmp_dir() + "/resolver.port";
    REQUIRE(fs::write_file(script, kResolver));
    pid_t p = ::fork();
    if (p == 0) {
        ::execlp("python3", "python3", script.c_str(), port_file.c_str(), "10.9.8.7", nullptr);
        ::_exit(127);
    }
    Pid resolver(p);
    REQUIRE(wait_until([&] { return fs::exists(port_file); }));
    std::string upstream = "127.0.0.1:" + *fs::read_file(port_file);
    auto r = cli({"run", "--rm", "--dns-upstream", upstream, "--hostname", "box7", "--add-host", "db.test:10.1.2.3",
                  "--dns-search", "example.test", "busybox", "sh", "-c",
                  "cat /etc/resolv.conf /etc/hosts /etc/hostname; nslookup something.test 10.0.2.3"});
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK_THAT(r.out, Catch::Contains("nameserver 10.0.2.3"));
    CHECK_THAT(r.out, Catch::Contains("search example.test"));
    CHECK_THAT(r.out, Catch::Contains("10.1.2.3\tdb.test"));
    CHECK_THAT(r.out, Catch::Contains("box7\n"));
    CHECK_THAT(r.out, Catch::Contains("10.9.8.7"));
    // BOCK_DNS_UPSTREAM does the same.
    auto e = cli({"run", "--rm", "busybox", "nslookup", "other.test", "10.0.2.3"}, {"BOCK_DNS_UPSTREAM=" + upstream});
    CHECK_THAT(e.out, Catch::Contains("10.9.8.7"));
}

TEST_CASE("bock run -p publishes an httpd that sees the client's loopback address; port, ps, container:", "[network]") {
    require_tun();
    uint16_t port = free_port();
    std::string log = tmp_dir() + "/server.log";
    Pid server = spawn_bock({"run", "--rm", "--dns-upstream", kNoDns, "-p", fmt::format("127.0.0.1:{}:8080", port),
                             "busybox", "sh", "-c", kHttpdScript},
                            log);
    bool up = wait_until([&] { return !http_get(port, "/hello.txt").empty(); }, 20000);
    INFO(fs::read_file(log).value_or(""));
    REQUIRE(up);
    CHECK_THAT(http_get(port, "/cgi-bin/addr", "127.0.0.5"), Catch::Contains("remote=127.0.0.5\n"));
    std::string id = running_id("httpd");
    REQUIRE(!id.empty());
    auto pr = cli({"port", id});
    CHECK(pr.code == 0);
    CHECK(pr.out == fmt::format("8080/tcp -> 127.0.0.1:{}\n", port));
    auto ps = cli({"ps"});
    CHECK_THAT(ps.out, Catch::Contains(fmt::format("127.0.0.1:{}->8080/tcp", port)));
    // Another container in its network namespace reaches it on loopback.
    auto joined = cli({"run", "--rm", "--network", "container:" + id, "busybox", "wget", "-qO-",
                       "http://127.0.0.1:8080/hello.txt"});
    INFO(joined.err);
    CHECK(joined.out == "hello from the container\n");
    CHECK(cli({"rm", "-f", id}).code == 0);
    CHECK(wait_until([&] { return !port_bound(port); }));
}

TEST_CASE("bock run -p publishes a UDP port", "[network]") {
    require_tun();
    uint16_t port = free_port(SOCK_DGRAM);
    std::string log = tmp_dir() + "/udp.log";
    Pid server = spawn_bock({"run", "--rm", "--dns-upstream", kNoDns, "-p", fmt::format("127.0.0.1:{}:5353/udp", port),
                             "busybox", "nc", "-u", "-l", "-p", "5353"},
                            log);
    Fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    auto dst = v4("127.0.0.1", port);
    REQUIRE(::connect(s.get(), reinterpret_cast<sockaddr*>(&dst), sizeof dst) == 0);
    bool got = wait_until([&] {
        (void)::send(s.get(), "udp-hello\n", 10, 0);
        return fs::read_file(log).value_or("").find("udp-hello") != std::string::npos;
    }, 20000);
    INFO(fs::read_file(log).value_or(""));
    CHECK(got);
    std::string id = running_id("5353");
    if (!id.empty()) CHECK(cli({"rm", "-f", id}).code == 0);
}

TEST_CASE("ping 10.0.2.2 from a bock run container, as root and as a user", "[network]") {
    require_tun();
    auto r = cli({"run", "--rm", "--dns-upstream", kNoDns, "busybox", "ping", "-c", "1", "-W", "5", "10.0.2.2"});
    INFO(r.out << r.err);
    CHECK(r.code == 0);
    auto u = cli({"run", "--rm", "--dns-upstream", kNoDns, "-u", "1000", "busybox", "ping", "-c", "1", "-W", "5",
                  "10.0.2.2"});
    INFO(u.out << u.err);
    CHECK(u.code == 0);
}

TEST_CASE("bock run refuses a port in use and a privileged port with their reasons; bad --network", "[network]") {
    require_tun();
    uint16_t port = free_port();
    Fd taken(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    auto a = v4("127.0.0.1", port);
    REQUIRE(::bind(taken.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(taken.get(), 1) == 0);
    auto inuse = cli({"run", "--rm", "--dns-upstream", kNoDns, "-p", fmt::format("127.0.0.1:{}:80", port), "busybox", "true"});
    CHECK(inuse.code == 125);
    CHECK_THAT(inuse.err, Catch::Contains(fmt::format("port {} is already in use", port)));
    int start = std::stoi(fs::read_file("/proc/sys/net/ipv4/ip_unprivileged_port_start").value_or("1024"));
    if (start > 1) {
        auto priv = cli({"run", "--rm", "--dns-upstream", kNoDns, "-p", fmt::format("127.0.0.1:{}:80", start - 1),
                         "busybox", "true"});
        CHECK(priv.code == 125);
        CHECK_THAT(priv.err, Catch::Contains(fmt::format("net.ipv4.ip_unprivileged_port_start is {}", start)));
    }
    auto pasta = cli({"run", "--rm", "--network", "pasta", "busybox", "true"});
    CHECK(pasta.code == 125);
    CHECK_THAT(pasta.err, Catch::Contains("not supported, use slirp4netns"));
    auto bridge = cli({"run", "--rm", "--network", "bridge", "busybox", "true"});
    CHECK_THAT(bridge.err, Catch::Contains("service networks issue"));
    // none: loopback only, no helper.
    auto none = cli({"run", "--rm", "--network", "none", "busybox", "sh", "-c", "ls /sys/class/net"});
    CHECK(none.out == "lo\n");
}

TEST_CASE("a SIGKILLed bock run leaves no helper and no port bound", "[network]") {
    require_tun();
    uint16_t port = free_port();
    std::string log = tmp_dir() + "/killed.log";
    Pid bock = spawn_bock({"run", "--dns-upstream", kNoDns, "-p", fmt::format("127.0.0.1:{}:8080", port), "busybox",
                           "sh", "-c", kHttpdScript},
                          log);
    REQUIRE(wait_until([&] { return !http_get(port, "/hello.txt").empty(); }, 20000));
    auto helpers = children_named(bock.get(), "bock-netns");
    REQUIRE(helpers.size() == 1);
    pid_t helper = helpers[0];
    REQUIRE(::kill(bock.get(), SIGKILL) == 0);
    (void)bock.wait();
    CHECK(wait_until([&] { return ::kill(helper, 0) != 0; }));
    CHECK(wait_until([&] { return !port_bound(port); }));
    auto ps = cli({"ps", "-a", "--format", "json"});
    for (const auto& c : nlohmann::json::parse(ps.out)) (void)cli({"rm", "-f", c["Id"].get<std::string>()});
}
