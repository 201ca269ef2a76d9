// bock run's --network as root (docs/networking.md): the default is the
// network `bock` on a host bridge (taken down with its last container);
// none, host, ns:PATH and an explicit slirp4netns with -p through
// bock-netns work. Traffic only to the host's
// loopback and a namespace the test makes.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <catch2/catch.hpp>

#include "bock/common/fd.hpp"
#include "bock/common/fs.hpp"
#include "bock/common/pid.hpp"
#include "net_fixtures.hpp"
#include "testlib.hpp"

using namespace bock;
using namespace bock::test;

namespace {

std::string sorted_lines(const std::string& text) {
    auto l = lines(text);
    std::sort(l.begin(), l.end());
    std::string out;
    for (const auto& x : l) out += x + "\n";
    return out;
}

// The host's links that other tests running at the same time do not add
// or remove: Bock's service network bridges and their veths (bock*, bk*:
// host links as root, docs/networking.md "Root: bridges on the host") and
// podman's CNI bridge and veths are left out.
std::string stable_links(const std::string& text) {
    std::string out;
    for (const auto& x : lines(sorted_lines(text)))
        if (!x.starts_with("bock") && !x.starts_with("bk") && !x.starts_with("veth") && !x.starts_with("cni"))
            out += x + "\n";
    return out;
}

}  // namespace

// Does the host's loopback port answer /i.txt with `text` (within 10 s)?
static bool serves(uint16_t port, const std::string& text) {
    for (int i = 0; i < 500; ++i) {
        if (lo_http_get(port, "/i.txt").find(text) != std::string::npos) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

// The default network's bridge (its record's network_interface), while
// this store's: its ifalias names the store (docs/networking.md "Root").
static std::string default_bridge() {
    auto j = nlohmann::json::parse(cli({"network", "inspect", "bock"}).out, nullptr, false);
    if (j.is_discarded() || j.empty()) return "";
    return j[0]["network_interface"].get<std::string>();
}
static bool ours_up(const std::string& bridge) {
    return !bridge.empty() && fs::read_file("/sys/class/net/" + bridge + "/ifalias")
                                  .value_or("")
                                  .find(env_or("BOCK_ROOT", "/nonexistent") + "/") != std::string::npos;
}
// This test's helper processes of that name (their command line or
// environment names its run root), zombies aside.
static size_t our_helpers(const std::string& comm) {
    size_t n = 0;
    std::string runroot = env_or("BOCK_RUNROOT", "/nonexistent");
    for (const auto& e : std::filesystem::directory_iterator("/proc")) {
        auto stat = fs::read_file(e.path().string() + "/stat").value_or("");
        auto close = stat.rfind(')');
        if (close == std::string::npos || stat.compare(close + 2, 1, "Z") == 0) continue;
        if (stat.substr(stat.find('(') + 1, close - stat.find('(') - 1) != comm) continue;
        auto all = fs::read_file(e.path().string() + "/cmdline").value_or("") +
                   fs::read_file(e.path().string() + "/environ").value_or("");
        if (all.find(runroot) != std::string::npos) ++n;
    }
    return n;
}

TEST_CASE("root: the default network (bridge, taken down after its last container), none, host, ns:PATH",
          "[root-network]") {
    auto def = cli({"run", "--rm", "busybox", "sh", "-c", "ls /sys/class/net; ip -4 route"});
    INFO(def.err);
    CHECK_THAT(def.out, Catch::StartsWith("eth0\nlo\n"));
    CHECK_THAT(def.out, Catch::Contains("default via 10."));
    CHECK(cli({"network", "ls", "-q"}).out == "bock\n");
    // Its bridge stays (as docker0 does); its DNS responder went with the container.
    CHECK(ours_up(default_bridge()));
    CHECK(our_helpers("bock-dns") == 0);
    auto none = cli({"run", "--rm", "--network", "none", "busybox", "ls", "/sys/class/net"});
    CHECK(none.out == "lo\n");
    std::string host_links;
    for (const auto& e : std::filesystem::directory_iterator("/sys/class/net")) host_links += e.path().filename().string() + "\n";
    auto host = cli({"run", "--rm", "--network", "host", "busybox", "ls", "/sys/class/net"});
    CHECK(stable_links(host.out) == stable_links(host_links));
    CHECK_THAT(host.out, Catch::Contains("lo\n"));

    // A namespace of the test's own, with a veth pair in it.
    std::string name = fmt::format("bocktest-{}", ::getpid());
    REQUIRE(run({"ip", "netns", "add", name}).code == 0);
    struct Del {
        std::string n;
        ~Del() { (void)run({"ip", "netns", "delete", n}); }
    } del{name};
    REQUIRE(run({"ip", "-n", name, "link", "add", "bockv0", "type", "veth", "peer", "name", "bockv1"}).code == 0);
    auto ns = cli({"run", "--rm", "--network", "ns:/run/netns/" + name, "busybox", "ls", "/sys/class/net"});
    CHECK(sorted_lines(ns.out) == "bockv0\nbockv1\nlo\n");
    auto missing = cli({"run", "--rm", "--network", "ns:/run/netns/" + name + "-missing", "busybox", "true"});
    CHECK(missing.code == 125);
    CHECK_THAT(missing.err, Catch::Contains("no such file"));
}

TEST_CASE("root: -p is refused with --network none; through bock-netns it publishes and is freed", "[root-network]") {
    if (::access("/dev/net/tun", R_OK | W_OK) != 0) skip("/dev/net/tun is missing");
    uint16_t port = lo_free_port();
    auto refused = cli({"run", "--rm", "--network", "none", "-p", fmt::format("127.0.0.1:{}:8080", port), "busybox",
                        "true"});
    CHECK(refused.code == 125);
    CHECK_THAT(refused.err, Catch::Contains("-p needs the slirp4netns network or a service network, not `none`"));
    CHECK_THAT(refused.err, Catch::Contains("--network slirp4netns"));

    std::string log = tmp_dir() + "/root-httpd.log";
    pid_t p = ::fork();
    REQUIRE(p >= 0);
    if (p == 0) {
        int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        std::string b = bin("bock"), pub = fmt::format("127.0.0.1:{}:8080", port);
        ::execl(b.c_str(), "bock", "run", "--rm", "--network", "slirp4netns", "--dns-upstream", "127.0.0.1:9", "-p",
                pub.c_str(), "busybox", "sh", "-c",
                "mkdir -p /www && echo root-published > /www/i.txt && exec httpd -f -p 8080 -h /www", nullptr);
        ::_exit(127);
    }
    Pid bock(p);
    bool up = false;
    for (int i = 0; i < 500 && !up; ++i) {
        up = lo_http_get(port, "/i.txt").find("root-published") != std::string::npos;
        if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    INFO(fs::read_file(log).value_or(""));
    CHECK(up);
    auto ps = cli({"ps", "-q"});
    REQUIRE(!lines(ps.out).empty());
    CHECK(cli({"rm", "-f", lines(ps.out)[0]}).code == 0);
    CHECK(!lo_port_bound(port));
}

TEST_CASE("root: run -d --network slirp4netns -p: the helper outlives bock, follows restart, goes with rm -f",
          "[root-network]") {
    if (::access("/dev/net/tun", R_OK | W_OK) != 0) skip("/dev/net/tun is missing");
    uint16_t port = lo_free_port();
    auto up = [&] { return serves(port, "root-detached"); };
    auto d = cli({"run", "-d", "--network", "slirp4netns", "--dns-upstream", "127.0.0.1:9", "-p",
                  fmt::format("127.0.0.1:{}:8080", port), "busybox", "sh", "-c",
                  "mkdir -p /www && echo root-detached > /www/i.txt && exec httpd -f -p 8080 -h /www"});
    INFO(d.err);
    REQUIRE(d.code == 0);
    std::string id = lines(d.out).at(0);
    CHECK(up());
    CHECK(cli({"restart", id}).code == 0);
    CHECK(up());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(lines(cli({"ps", "-q"}).out).size() == 1);  // still running: the stopped run's cleanup left it alone
    CHECK(cli({"rm", "-f", id}).code == 0);
    CHECK(!lo_port_bound(port));
}

TEST_CASE("root: the default network for detached containers: -p, by name, no helper after the last rm",
          "[root-network]") {
    uint16_t port = lo_free_port();
    auto up = [&] { return serves(port, "root-default"); };
    auto d = cli({"run", "-d", "--name", "web", "-p", fmt::format("127.0.0.1:{}:8080", port), "busybox", "sh", "-c",
                  "mkdir -p /www && echo root-default > /www/i.txt && exec httpd -f -p 8080 -h /www"});
    INFO(d.err);
    REQUIRE(d.code == 0);
    std::string id = lines(d.out).at(0);
    CHECK(up());
    std::string bridge = default_bridge();
    CHECK(ours_up(bridge));
    CHECK(our_helpers("bock-dns") == 1);
    CHECK(cli({"exec", id, "ls", "/sys/class/net"}).out == "eth0\nlo\n");
    // A second container reaches it by name; its removal leaves the network up.
    auto b = cli({"run", "--rm", "busybox", "sh", "-c",
                  "for i in $(seq 50); do wget -qO- http://web:8080/i.txt 2>/dev/null && exit 0; sleep 0.2; done; exit 1"});
    INFO(b.out + b.err);
    CHECK_THAT(b.out, Catch::Contains("root-default"));
    CHECK(ours_up(bridge));
    CHECK(up());
    CHECK(cli({"rm", "-f", id}).code == 0);
    CHECK(!lo_port_bound(port));
    // No helper of it left (the responder, the loopback forwarder); its
    // bridge and chains until `network rm bock`.
    CHECK(our_helpers("bock-dns") == 0);
    CHECK(our_helpers("bock-netns") == 0);
    CHECK(ours_up(bridge));
    CHECK(cli({"network", "rm", "bock"}).code == 0);
    CHECK(!ours_up(bridge));
    auto nft = run({"/usr/sbin/nft", "list", "table", "inet", "bock"});
    CHECK_THAT(nft.out, !Catch::Contains(bridge + "-"));
}

TEST_CASE("root: --network bridge: the network bock on a host bridge, made on first use", "[root-network]") {
    auto a = cli({"run", "-d", "--name", "b1", "--network", "bridge", "busybox", "sh", "-c",
                  "mkdir -p /www && echo from-b1 > /www/index.html && exec httpd -f -p 80 -h /www"});
    INFO(a.err);
    REQUIRE(a.code == 0);
    CHECK(cli({"network", "ls", "-q"}).out == "bock\n");
    auto j = nlohmann::json::parse(cli({"network", "inspect", "bock"}).out);
    REQUIRE(j.size() == 1);
    // bock0 when no other run root holds it (tests running beside this one may).
    std::string bridge = j[0]["network_interface"].get<std::string>();
    CHECK(bridge.starts_with("bock"));
    CHECK(fs::exists("/sys/class/net/" + bridge));
    // A second container on it reaches the first by name.
    auto b = cli({"run", "--rm", "--network", "bridge", "busybox", "sh", "-c",
                  "for i in $(seq 50); do wget -qO- http://b1/index.html 2>/dev/null && exit 0; sleep 0.2; done; exit 1"});
    INFO(b.out + b.err);
    CHECK_THAT(b.out, Catch::Contains("from-b1"));
    CHECK(cli({"rm", "-f", "b1"}).code == 0);
    CHECK(cli({"network", "rm", "bock"}).code == 0);
    // Gone (or, at once, another run root's: then not marked as this store's).
    CHECK_THAT(fs::read_file("/sys/class/net/" + bridge + "/ifalias").value_or(""),
               !Catch::Contains(env_or("BOCK_ROOT", "/nonexistent") + "/"));
}
