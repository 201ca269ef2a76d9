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

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <thread>

#include <catch2/catch.hpp>

#include "bock/common/fd.hpp"
#include "bock/common/fs.hpp"
#include "bock/common/pid.hpp"
#include "testlib.hpp"
#include "net_fixtures.hpp"

using namespace bock;
using namespace bock::test;

namespace {

const std::string kNoDns = "127.0.0.1:9";  // a closed port: nothing leaves

void require_tun() {
    if (::access("/dev/net/tun", R_OK | W_OK) != 0) skip("/dev/net/tun is not usable by this user");
}

bool wait_until(const std::function<bool()>& cond, int ms = 10000) {
    for (int i = 0; i < ms / 20; ++i) {
        if (cond()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return cond();
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

// bock-netns processes serving this test's containers (their API socket
// is under our BOCK_RUNROOT), zombies left out: parallel tests have their own.
std::vector<pid_t> our_helpers() {
    std::vector<pid_t> out;
    std::string runroot = env_or("BOCK_RUNROOT", "/nonexistent");
    for (const auto& e : std::filesystem::directory_iterator("/proc")) {
        auto name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        auto stat = fs::read_file(e.path().string() + "/stat").value_or("");
        auto close = stat.rfind(')');
        if (close == std::string::npos || stat.find("(bock-netns)") == std::string::npos) continue;
        if (stat.compare(close + 2, 1, "Z") == 0) continue;
        auto cmdline = fs::read_file(e.path().string() + "/cmdline").value_or("");
        if (cmdline.find(runroot) != std::string::npos) out.push_back(std::stoi(name));
    }
    return out;
}

// Gone, or a zombie (it runs nothing, holds nothing).
bool process_gone(pid_t pid) {
    auto stat = fs::read_file(fmt::format("/proc/{}/stat", pid));
    if (!stat) return true;
    auto close = stat->rfind(')');
    return close != std::string::npos && stat->compare(close + 2, 1, "Z") == 0;
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

}  // namespace

TEST_CASE("bock run reaches the host's loopback through host.containers.internal only when allowed", "[network]") {
    require_tun();
    std::string root = tmp_dir() + "/hostwww";
    REQUIRE(fs::mkdir_p(root));
    REQUIRE(fs::write_file(root + "/hello.txt", "hello from the host\n"));
    uint16_t port = lo_free_port();
    Pid httpd = loopback_httpd(root, port);
    REQUIRE(wait_until([&] { return !lo_http_get(port, "/hello.txt").empty(); }));
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
    CHECK(our_helpers().empty());
}

TEST_CASE("bock run's DNS goes to --dns-upstream; resolv.conf, hosts and hostname are written", "[network]") {
    require_tun();
    std::string script = tmp_dir() + "/resolver.py", port_file = tmp_dir() + "/resolver.port";
    REQUIRE(fs::write_file(script, kResolverScript));
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
    CHECK(our_helpers().empty());
}

TEST_CASE("bock run -p publishes an httpd that sees the client's loopback address; port, ps, container:", "[network]") {
    require_tun();
    uint16_t port = lo_free_port();
    std::string log = tmp_dir() + "/server.log";
    Pid server = spawn_bock({"run", "--rm", "--dns-upstream", kNoDns, "-p", fmt::format("127.0.0.1:{}:8080", port),
                             "busybox", "sh", "-c", kHttpdScript},
                            log);
    bool up = wait_until([&] { return !lo_http_get(port, "/hello.txt").empty(); }, 20000);
    INFO(fs::read_file(log).value_or(""));
    REQUIRE(up);
    // busybox httpd listens on [::]: an IPv4 client is seen in its mapped
    // form, still with its own address.
    CHECK_THAT(lo_http_get(port, "/cgi-bin/addr", "127.0.0.5"),
               Catch::Contains("remote=127.0.0.5\n") || Catch::Contains("remote=[::ffff:127.0.0.5]\n"));
    auto helpers = our_helpers();
    CHECK(helpers.size() == 1);
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
    // bock rm -f: the helper is gone and the port free when it returns.
    CHECK(cli({"rm", "-f", id}).code == 0);
    CHECK(!lo_port_bound(port));
    for (pid_t h : helpers) CHECK(process_gone(h));
    CHECK(our_helpers().empty());
}

TEST_CASE("bock run -p publishes a UDP port; the server sees the client's address", "[network]") {
    require_tun();
    uint16_t port = lo_free_port(SOCK_DGRAM);
    std::string log = tmp_dir() + "/udp.log";
    Pid server = spawn_bock({"run", "--rm", "--dns-upstream", kNoDns, "-p", fmt::format("127.0.0.1:{}:5353/udp", port),
                             probe_image(), "/probe", "udp-echo", "5353", "1"},
                            log);
    REQUIRE(wait_until([&] { return fs::read_file(log).value_or("").find("listening") != std::string::npos; }, 20000));
    Fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    auto src = lo_v4("127.0.0.5", 0);
    REQUIRE(::bind(s.get(), reinterpret_cast<sockaddr*>(&src), sizeof src) == 0);
    auto dst = lo_v4("127.0.0.1", port);
    REQUIRE(::connect(s.get(), reinterpret_cast<sockaddr*>(&dst), sizeof dst) == 0);
    REQUIRE(::send(s.get(), "udp-hello", 9, 0) == 9);
    pollfd p{s.get(), POLLIN, 0};
    std::string reply;
    if (::poll(&p, 1, 10000) == 1) {
        char buf[256];
        ssize_t n = ::recv(s.get(), buf, sizeof buf, 0);
        if (n > 0) reply.assign(buf, static_cast<size_t>(n));
    }
    INFO(fs::read_file(log).value_or(""));
    CHECK(reply == "FROM 127.0.0.5: udp-hello");
    // The server answered one datagram and exited: so did bock run, and
    // the port is free.
    auto st = server.wait();
    CHECK((st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0));
    CHECK(!lo_port_bound(port, SOCK_DGRAM));
    CHECK(our_helpers().empty());
}

TEST_CASE("bock run -p [::1]:PORT publishes on IPv6 loopback; the server sees ::1", "[network]") {
    require_tun();
    if (fs::read_file("/proc/net/if_inet6").value_or("").find("00000000000000000000000000000001") == std::string::npos)
        skip("the host's loopback has no ::1");
    uint16_t port = lo_free_port();
    std::string log = tmp_dir() + "/server6.log";
    Pid server = spawn_bock({"run", "--rm", "--dns-upstream", kNoDns, "-p", fmt::format("[::1]:{}:8080", port),
                             "busybox", "sh", "-c", kHttpdScript},
                            log);
    bool up = wait_until([&] { return !lo_http_get6(port, "/hello.txt").empty(); }, 20000);
    INFO(fs::read_file(log).value_or(""));
    REQUIRE(up);
    CHECK_THAT(lo_http_get6(port, "/hello.txt"), Catch::Contains("hello from the container"));
    CHECK_THAT(lo_http_get6(port, "/cgi-bin/addr"), Catch::Contains("remote=[::1]\n"));
    std::string id = running_id("httpd");
    REQUIRE(!id.empty());
    CHECK(cli({"port", id}).out == fmt::format("8080/tcp -> [::1]:{}\n", port));
    CHECK(cli({"rm", "-f", id}).code == 0);
    CHECK(our_helpers().empty());
}

TEST_CASE("a range of published ports, and -P for the ports the image exposes", "[network]") {
    require_tun();
    // Two neighbouring free ports of the host's loopback.
    uint16_t base = 0;
    for (int i = 0; i < 50 && !base; ++i) {
        uint16_t p = lo_free_port();
        if (p < 65535 && !lo_port_bound(static_cast<uint16_t>(p + 1))) base = p;
    }
    REQUIRE(base != 0);
    const char* two_servers =
        "mkdir -p /a /b && echo first > /a/x.txt && echo second > /b/x.txt && "
        "httpd -p 8080 -h /a && exec httpd -f -p 8081 -h /b";
    std::string log = tmp_dir() + "/range.log";
    Pid server = spawn_bock({"run", "--rm", "--dns-upstream", kNoDns, "-p",
                             fmt::format("127.0.0.1:{}-{}:8080-8081", base, base + 1), "busybox", "sh", "-c",
                             two_servers},
                            log);
    bool up = wait_until([&] { return !lo_http_get(static_cast<uint16_t>(base + 1), "/x.txt").empty(); }, 20000);
    INFO(fs::read_file(log).value_or(""));
    REQUIRE(up);
    CHECK(lo_http_get(base, "/x.txt").find("first") != std::string::npos);
    CHECK(lo_http_get(static_cast<uint16_t>(base + 1), "/x.txt").find("second") != std::string::npos);
    std::string id = running_id("8081");
    REQUIRE(!id.empty());
    CHECK(cli({"port", id}).out ==
          fmt::format("8080/tcp -> 127.0.0.1:{}\n8081/tcp -> 127.0.0.1:{}\n", base, base + 1));
    CHECK(cli({"rm", "-f", id}).code == 0);
    CHECK(!lo_port_bound(base));

    // Ranges of different lengths, and a bad range, are refused.
    auto uneven = cli({"run", "--rm", "-p", "127.0.0.1:9000-9002:80-81", "busybox", "true"});
    CHECK(uneven.code != 0);
    CHECK_THAT(uneven.err, Catch::Contains("3 host ports for 2 container ports"));
    auto reversed = cli({"run", "--rm", "-p", "9005-9001:80", "busybox", "true"});
    CHECK(reversed.code != 0);
    CHECK_THAT(reversed.err, Catch::Contains("is not a port (1-65535) or a range"));

    // -P: an image that exposes 8080 (committed with EXPOSE), published to
    // a free host port, shown by `bock port` and served.
    auto base_ctr = cli({"create", "busybox", "true"});
    REQUIRE(base_ctr.code == 0);
    std::string bid = base_ctr.out.substr(0, base_ctr.out.find('\n'));
    REQUIRE(cli({"commit", "-c", "EXPOSE 8080", bid, "localhost/exposes:1"}).code == 0);
    CHECK(cli({"rm", bid}).code == 0);  // created, never started: no -f needed
    auto det = cli({"run", "-d", "-P", "--dns-upstream", kNoDns, "localhost/exposes:1", "sh", "-c", kHttpdScript});
    INFO(det.err);
    REQUIRE(det.code == 0);
    std::string did = det.out.substr(0, det.out.find('\n'));
    auto port_out = cli({"port", did}).out;
    INFO(port_out);
    auto arrow = port_out.find("8080/tcp -> 0.0.0.0:");
    REQUIRE(arrow != std::string::npos);
    uint16_t published = static_cast<uint16_t>(std::stoi(port_out.substr(arrow + 20)));
    CHECK(wait_until([&] { return lo_http_get(published, "/hello.txt").find("hello from the container") != std::string::npos; },
                     20000));
    CHECK(cli({"rm", "-f", did}).code == 0);
    CHECK(!lo_port_bound(published));
    CHECK(our_helpers().empty());
}

TEST_CASE("10,000 connections to one published port do not stop the helper serving another", "[network]") {
    require_tun();
    uint16_t flooded = lo_free_port(), other = lo_free_port();
    std::string log = tmp_dir() + "/flood.log";
    Pid server = spawn_bock({"run", "--rm", "--dns-upstream", kNoDns, "-p", fmt::format("127.0.0.1:{}:8080", flooded),
                             "-p", fmt::format("127.0.0.1:{}:8081", other), "busybox", "sh", "-c",
                             "mkdir -p /www && echo other > /www/o.txt && exec httpd -f -p 8081 -h /www"},
                            log);
    bool up = wait_until([&] { return !lo_http_get(other, "/o.txt").empty(); }, 20000);
    INFO(fs::read_file(log).value_or(""));
    REQUIRE(up);
    std::atomic<int> connected{0};
    std::vector<int> failures;  // errno of each failed connect (flood thread only)
    std::thread flood([&] {
        // 10,000 connects, at most 250 open at once, each reset at once
        // (no TIME_WAIT left). Nothing listens on 8080 inside: the helper
        // accepts each, fails to connect inside and closes it.
        for (int round = 0; round < 40; ++round) {
            std::vector<Fd> batch;
            for (int i = 0; i < 250; ++i) {
                // A connect the client's own kernel turns down (no local
                // port free at that moment, a transient EAGAIN) or resets
                // (its new SYN met the server side of a just-reset
                // connection with the same ports: the helper cannot reset
                // a connect before it accepts) says nothing about the
                // helper: try that one again, up to 3 times. A refusal
                // (the listener gone) would be the helper's: not retried.
                for (int attempt = 0; attempt < 4; ++attempt) {
                    Fd c(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
                    auto dst = lo_v4("127.0.0.1", flooded);
                    linger l{1, 0};
                    ::setsockopt(c.get(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
                    int rc = ::connect(c.get(), reinterpret_cast<sockaddr*>(&dst), sizeof dst);
                    int err = errno;
                    batch.push_back(std::move(c));
                    if (rc == 0) {
                        ++connected;
                        break;
                    }
                    failures.push_back(err);
                    if (err == ECONNREFUSED) break;
                }
            }
        }
    });
    int served = 0, tries = 0;
    while (connected < 10000 && tries < 200) {
        ++tries;
        if (lo_http_get(other, "/o.txt").find("other") != std::string::npos) ++served;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    flood.join();
    for (int e : failures) UNSCOPED_INFO("a connect failed: " << std::strerror(e));
    CHECK(connected == 10000);
    CHECK(failures.size() <= 3);
    CHECK(served == tries);
    CHECK_THAT(lo_http_get(other, "/o.txt"), Catch::Contains("other"));
    std::string id = running_id("8081");
    REQUIRE(!id.empty());
    CHECK(cli({"rm", "-f", id}).code == 0);
    CHECK(!lo_port_bound(flooded));
    CHECK(!lo_port_bound(other));
    CHECK(our_helpers().empty());
}

TEST_CASE("the network files are bind mounts over a lower layer: not in bock diff, nor in commit", "[network]") {
    require_tun();
    auto r = cli({"run", "--dns-upstream", kNoDns, "--hostname", "difftest", "busybox", "sh", "-c",
                  "cat /etc/hostname && echo 10.0.0.9 extra >> /etc/hosts && echo kept > /kept.txt"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(r.out == "difftest\n");
    auto ps = cli({"ps", "-a", "-q"});
    REQUIRE(ps.code == 0);
    std::string id = lines(ps.out).at(0);
    auto diff = cli({"diff", id});
    CHECK(diff.code == 0);
    CHECK_THAT(diff.out, Catch::Contains("/kept.txt"));
    CHECK_THAT(diff.out, !Catch::Contains("/etc"));
    auto commit = cli({"commit", id, "localhost/nettest:latest"});
    REQUIRE(commit.code == 0);
    // The committed image has none of the three (busybox's image has no
    // /etc/hosts); a container of it sees fresh ones.
    auto again = cli({"run", "--rm", "--network", "none", "localhost/nettest:latest", "sh", "-c",
                      "cat /kept.txt; ls /etc"});
    CHECK_THAT(again.out, Catch::Contains("kept"));
    CHECK_THAT(again.out, !Catch::Contains("hosts"));
    CHECK_THAT(again.out, !Catch::Contains("resolv.conf"));
    CHECK(cli({"rm", id}).code == 0);
}

TEST_CASE("ping 10.0.2.2 from a bock run container, as root and as a user", "[network]") {
    require_tun();
    // busybox's ping opens a raw socket: CAP_NET_RAW, not in the default set (docs/security.md).
    auto r = cli({"run", "--rm", "--dns-upstream", kNoDns, "--cap-add", "NET_RAW", "busybox", "ping", "-c", "1", "-W",
                  "5", "10.0.2.2"});
    INFO(r.out << r.err);
    CHECK(r.code == 0);
    // As a user without CAP_NET_RAW: an ICMP datagram socket, allowed by
    // net.ipv4.ping_group_range in the container's namespace (busybox's
    // ping only tries raw sockets, so the probe pings).
    auto u = probe({"--dns-upstream", kNoDns, "-u", "1000:1000"}, {"read", "/proc/sys/net/ipv4/ping_group_range",
                                                                   "ping", "10.0.2.2"});
    INFO(u.dump());
    CHECK(u["ping"]["ok"] == true);
    // A negative control: with --network none there is nobody to answer.
    auto none = probe({"--network", "none", "-u", "1000:1000"}, {"ping", "10.0.2.2"});
    CHECK(none["ping"]["ok"] == false);
}

TEST_CASE("bock run refuses a port in use and a privileged port with their reasons; bad --network", "[network]") {
    require_tun();
    uint16_t port = lo_free_port();
    Fd taken(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    auto a = lo_v4("127.0.0.1", port);
    REQUIRE(::bind(taken.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(taken.get(), 1) == 0);
    auto inuse = cli({"run", "--rm", "--dns-upstream", kNoDns, "-p", fmt::format("127.0.0.1:{}:80", port), "busybox", "true"});
    CHECK(inuse.code == 125);
    CHECK_THAT(inuse.err, Catch::Contains(fmt::format("port {} is already in use", port)));
    // Nothing left: no helper, no container.
    CHECK(our_helpers().empty());
    CHECK(cli({"ps", "-a", "-q"}).out.empty());
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
    CHECK(bridge.code == 125);
    CHECK_THAT(bridge.err, Catch::Contains("not supported yet rootless") && Catch::Contains("bock network create"));
    auto unknown = cli({"run", "--rm", "--network", "nosuch", "busybox", "true"});
    CHECK(unknown.code == 125);
    CHECK_THAT(unknown.err, Catch::Contains("network `nosuch`: no such network"));
    // none: loopback only, no helper.
    auto none = cli({"run", "--rm", "--network", "none", "busybox", "sh", "-c", "ls /sys/class/net"});
    CHECK(none.out == "lo\n");
}

TEST_CASE("a SIGKILLed bock run leaves no helper and no port bound", "[network]") {
    require_tun();
    uint16_t port = lo_free_port();
    std::string log = tmp_dir() + "/killed.log";
    Pid bock = spawn_bock({"run", "--dns-upstream", kNoDns, "-p", fmt::format("127.0.0.1:{}:8080", port), "busybox",
                           "sh", "-c", kHttpdScript},
                          log);
    REQUIRE(wait_until([&] { return !lo_http_get(port, "/hello.txt").empty(); }, 20000));
    auto helpers = children_named(bock.get(), "bock-netns");
    REQUIRE(helpers.size() == 1);
    pid_t helper = helpers[0];
    REQUIRE(::kill(bock.get(), SIGKILL) == 0);
    (void)bock.wait();
    CHECK(wait_until([&] { return process_gone(helper); }));
    CHECK(wait_until([&] { return !lo_port_bound(port); }));
    CHECK(our_helpers().empty());
    auto ps = cli({"ps", "-a", "--format", "json"});
    for (const auto& c : nlohmann::json::parse(ps.out)) (void)cli({"rm", "-f", c["Id"].get<std::string>()});
}

// Containers behind a monitor (docs/networking.md, "Containers behind a
// monitor"): bock-netns outlives the `bock run -d` that started it, follows
// the container through stop/start, restart and its restart policy (a new
// network namespace each time), and goes with `bock rm -f` or with the
// container when its monitor is killed.
TEST_CASE("bock run -d -p: a detached server's port, through start, restart, policy, rm -f and a killed monitor",
          "[network]") {
    require_tun();
    uint16_t port = lo_free_port();
    std::string pub = fmt::format("127.0.0.1:{}:8080", port);
    auto up = [&] { return !lo_http_get(port, "/hello.txt").empty(); };
    auto d = cli({"run", "-d", "--dns-upstream", kNoDns, "-p", pub, "busybox", "sh", "-c", kHttpdScript});
    INFO(d.err);
    REQUIRE(d.code == 0);
    std::string id = lines(d.out).at(0);
    // bock returned: the helper is not its child any more, and serves.
    REQUIRE(wait_until(up));
    CHECK_THAT(lo_http_get(port, "/hello.txt"), Catch::Contains("hello from the container"));
    CHECK_THAT(lo_http_get(port, "/cgi-bin/addr", "127.0.0.5"), Catch::Contains("::ffff:127.0.0.5]"));
    CHECK(cli({"port", id}).out == fmt::format("8080/tcp -> 127.0.0.1:{}\n", port));
    auto helpers = our_helpers();
    REQUIRE(helpers.size() == 1);
    auto inspect = nlohmann::json::parse(cli({"inspect", id}).out)[0];
    CHECK(inspect["HostConfig"]["NetworkMode"] == "slirp4netns");
    // Its network files live with the container (a restart after a reboot binds them again).
    auto in = cli({"exec", id, "sh", "-c", "cat /etc/resolv.conf; ls /sys/class/net"});
    CHECK_THAT(in.out, Catch::Contains("nameserver 10.0.2.3"));
    CHECK_THAT(in.out, Catch::Contains("tap0"));

    // stop: the helper ends with the container, the port is free.
    CHECK(cli({"stop", id}).code == 0);
    CHECK(wait_until([&] { return process_gone(helpers[0]); }));
    CHECK(wait_until([&] { return !lo_port_bound(port); }));
    // start: a new network namespace, a new helper on the same port.
    CHECK(cli({"start", id}).code == 0);
    CHECK(wait_until(up));
    auto second = our_helpers();
    REQUIRE(second.size() == 1);
    CHECK(second[0] != helpers[0]);
    // restart: the same again. (The stopped run's cleanup, which may come
    // after the start, must leave the new run alone: it stays running.)
    CHECK(cli({"restart", id}).code == 0);
    CHECK(wait_until(up));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(nlohmann::json::parse(cli({"inspect", id}).out)[0]["State"]["Status"] == "running");
    auto third = our_helpers();
    REQUIRE(third.size() == 1);
    CHECK(third[0] != second[0]);
    // rm -f: no monitor, no helper, no port.
    CHECK(cli({"rm", "-f", id}).code == 0);
    CHECK(wait_until([&] {
        for (pid_t m : children_named(0, "bock-monitor"))
            if (fs::read_file(fmt::format("/proc/{}/cmdline", m)).value_or("").find(id) != std::string::npos &&
                !process_gone(m))
                return false;
        return true;
    }));
    CHECK(our_helpers().empty());
    CHECK(wait_until([&] { return !lo_port_bound(port); }));

    // A restart policy: killed, started again with a new helper serving the port.
    auto a = cli({"run", "-d", "--restart", "always", "--dns-upstream", kNoDns, "-p", pub, "busybox", "sh", "-c",
                  kHttpdScript});
    REQUIRE(a.code == 0);
    std::string aid = lines(a.out).at(0);
    REQUIRE(wait_until(up));
    auto before = our_helpers();
    REQUIRE(before.size() == 1);
    CHECK(cli({"kill", aid}).code == 0);
    CHECK(wait_until([&] {
        auto h = our_helpers();
        return h.size() == 1 && h[0] != before[0] && up();
    }));
    CHECK(nlohmann::json::parse(cli({"inspect", aid}).out)[0]["RestartCount"] == 1);
    // The monitor killed: the container dies with it, and so does the helper.
    auto rec = nlohmann::json::parse(
        fs::read_file(env_or("BOCK_ROOT", "") + "/containers/" + aid + "/container.json").value_or("{}"));
    pid_t monitor = rec.value("monitor_pid", 0);
    REQUIRE(monitor > 0);
    REQUIRE(::kill(monitor, SIGKILL) == 0);
    CHECK(wait_until([&] { return our_helpers().empty(); }));
    CHECK(wait_until([&] { return !lo_port_bound(port); }));
    auto ps = nlohmann::json::parse(cli({"ps", "-a", "--format", "json"}).out);
    REQUIRE(ps.size() == 1);
    CHECK(ps[0]["State"] == "exited");
    CHECK(cli({"rm", "-f", aid}).code == 0);

    // create + start, and -i: the same network.
    auto c = cli({"create", "--dns-upstream", kNoDns, "-p", pub, "busybox", "sh", "-c", kHttpdScript});
    REQUIRE(c.code == 0);
    std::string cid = lines(c.out).at(0);
    CHECK(our_helpers().size() == 1);  // attached already, the port bound
    CHECK(cli({"start", cid}).code == 0);
    CHECK(wait_until(up));
    CHECK(cli({"rm", "-f", cid}).code == 0);
    auto i = run({bin("bock"), "run", "-i", "--rm", "--dns-upstream", kNoDns, "busybox", "sh", "-c",
                  "ls /sys/class/net; cat"},
                 std::string("from stdin\n"));
    CHECK(i.code == 0);
    CHECK_THAT(i.out, Catch::Contains("tap0"));
    CHECK_THAT(i.out, Catch::Contains("from stdin"));
    CHECK(wait_until([&] { return our_helpers().empty(); }));
    // The --rm cleanup may still be finishing on a loaded machine.
    CHECK(wait_until([&] { return cli({"ps", "-a", "-q"}).out.empty(); }));
    INFO(cli({"ps", "-a"}).out);
    CHECK(cli({"ps", "-a", "-q"}).out.empty());
}
