#include "svcnet_scenarios.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "bock/common/pid.hpp"
#include "testlib.hpp"
#include "net_fixtures.hpp"

namespace bock::test {
namespace {

bool eventually(const std::function<bool()>& cond, int ms = 20000) {
    for (int i = 0; i < ms / 100; ++i) {
        if (cond()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return cond();
}

nlohmann::json inspect_network(const std::string& name) {
    auto r = cli({"network", "inspect", name});
    INFO(r.err);
    REQUIRE(r.code == 0);
    auto j = nlohmann::json::parse(r.out);
    REQUIRE(j.size() == 1);
    return j[0];
}

// The address of container `name` on network `net`; empty when absent.
std::string address_on(const std::string& net, const std::string& name) {
    auto n = inspect_network(net);
    for (const auto& [id, c] : n["containers"].items())
        if (c["name"] == name) return c["ips"][0].get<std::string>();
    return "";
}

// bock-dns (or bock-netns) processes of this test (their command line
// names our run root), zombies left out.
std::vector<pid_t> our_responders(const std::string& comm = "bock-dns") {
    std::vector<pid_t> out;
    std::string runroot = env_or("BOCK_RUNROOT", "/nonexistent");
    for (const auto& e : std::filesystem::directory_iterator("/proc")) {
        auto name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        auto stat = fs::read_file(e.path().string() + "/stat").value_or("");
        auto close = stat.rfind(')');
        if (close == std::string::npos || stat.find("(" + comm + ")") == std::string::npos) continue;
        if (stat.compare(close + 2, 1, "Z") == 0) continue;
        if (fs::read_file(e.path().string() + "/cmdline").value_or("").find(runroot) != std::string::npos)
            out.push_back(std::stoi(name));
    }
    return out;
}

// The links where the bridges are: the service networks' namespace, seen
// from the session (rootless), or the host's (root: host mode, where other
// tests' bridges are too: look for this test's by name).
std::string private_links() {
    if (is_root()) {
        auto r = run({"ip", "-o", "link"});
        return r.out + r.err;
    }
    std::string ns = env_or("BOCK_RUNROOT", "/nonexistent") + "/svcnet/netns";
    auto r = cli({"unshare", "nsenter", "--net=" + ns, "ip", "-o", "link"});
    return r.out + r.err;
}

std::string bridge_of(const std::string& net) { return inspect_network(net)["network_interface"].get<std::string>(); }

// The host's `table inet bock` as root (`nft -j`); empty without it.
std::string host_table() {
    auto r = run({"nft", "-j", "list", "table", "inet", "bock"});
    return r.code == 0 ? r.out : "";
}

// Root (host mode): what the host still holds of these bridges (the link,
// a gateway address, a chain in `table inet bock`); empty: nothing. Other
// tests running at the same time may have been given a name or subnet
// this test freed: a link marked (ifalias) as another store's is theirs,
// and so are its chains and addresses.
std::string host_leftovers(const std::vector<std::string>& bridges, const std::vector<std::string>& gateways) {
    std::string left, store = env_or("BOCK_ROOT", "/nonexistent") + "/";
    auto ours = [&](const std::string& link) {
        return fs::read_file("/sys/class/net/" + link + "/ifalias").value_or("").find(store) != std::string::npos;
    };
    auto table = host_table();
    for (const auto& b : bridges) {
        bool exists = fs::exists("/sys/class/net/" + b);
        if (exists && ours(b)) left += " link " + b;
        if (!exists && table.find("\"" + b + "-") != std::string::npos) left += " chain " + b + "-*";
    }
    for (const auto& line : lines(run({"ip", "-br", "-4", "addr"}).out)) {
        auto link = line.substr(0, line.find(' '));
        for (const auto& g : gateways)
            if (line.find(" " + g + "/") != std::string::npos && ours(link)) left += " address " + g + " on " + link;
    }
    return left;
}

// Root (host mode): "outside", a network namespace this test makes, joined
// to the host by a veth pair (host end 10.201.N.1, inside 10.201.N.2,
// default route back via the host), with an HTTP server on 8080 answering
// "from-outside <client address>": the way out through the host's routing
// and masquerade, without leaving namespaces the test made.
constexpr const char* kOutsideServer = R"(import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(s):
        b = ("from-outside " + s.client_address[0]).encode()
        s.send_response(200); s.send_header("Content-Length", str(len(b))); s.end_headers(); s.wfile.write(b)
    def log_message(s, *a): pass
http.server.HTTPServer(("0.0.0.0", 8080), H).serve_forever()
)";

struct Outside {
    Pid server;
    std::string host_ip, ip;
};

Outside make_outside() {
    std::string script = tmp_dir() + "/outside.py";
    REQUIRE(fs::write_file(script, kOutsideServer));
    pid_t p = ::fork();
    if (p == 0) {
        ::execlp("unshare", "unshare", "--net", "python3", script.c_str(), nullptr);
        ::_exit(127);
    }
    Outside o{Pid(p), "", ""};
    // A /24 no other test beside this one holds on the host now.
    int n = static_cast<int>(::getpid() % 200) + 20;
    auto addrs = run({"ip", "-br", "-4", "addr"}).out;
    for (int i = 0; i < 200 && addrs.find(fmt::format(" 10.201.{}.", n)) != std::string::npos; ++i)
        n = (n - 20 + 1) % 200 + 20;
    o.host_ip = fmt::format("10.201.{}.1", n);
    o.ip = fmt::format("10.201.{}.2", n);
    std::string link = fmt::format("bkt{}", ::getpid() % 1000000), pid = std::to_string(p);
    // The new namespace is there once unshare exec'd python3.
    REQUIRE(eventually([&] {
        return fs::read_file("/proc/" + pid + "/comm").value_or("").starts_with("python3");
    }, 5000));
    auto r = run({"sh", "-c",
                  "set -e; ip link add " + link + " type veth peer name eth0 netns " + pid + "; ip addr add " +
                      o.host_ip + "/24 dev " + link + "; ip link set " + link + " up; nsenter -t " + pid +
                      " -n sh -c 'ip addr add " + o.ip + "/24 dev eth0; ip link set eth0 up; ip link set lo up; "
                      "ip route add default via " + o.host_ip + "'"});
    INFO(r.out + r.err);
    REQUIRE(r.code == 0);
    return o;
}

// A resolver on 127.0.0.1 answering every A query with one address.
}  // namespace

void check_network_records() {
    auto a = cli({"network", "create", "--label", "team=blue", "alpha"});
    INFO(a.err);
    REQUIRE(a.code == 0);
    CHECK(a.out == "alpha\n");
    REQUIRE(cli({"network", "create", "--subnet", "10.123.0.0/16", "--gateway", "10.123.0.254", "--internal",
                 "beta"}).code == 0);
    REQUIRE(cli({"network", "create", "--ipv6", "gamma"}).code == 0);
    // alpha's subnet: the first free 10.89.N.0/24 (rootless N = 0; as root
    // the first that no other run root's bridge or host route holds).
    std::string alpha_subnet = inspect_network("alpha")["subnets"][0]["subnet"].get<std::string>();
    REQUIRE(alpha_subnet.starts_with("10.89."));
    std::string pre = alpha_subnet.substr(0, alpha_subnet.rfind('.'));  // 10.89.N
    if (!is_root()) CHECK(alpha_subnet == "10.89.0.0/24");
    std::string alpha_br = bridge_of("alpha"), beta_br = bridge_of("beta"), gamma_br = bridge_of("gamma");
    if (is_root()) {
        // Host mode: each bridge is a host link from `network create` on,
        // with its gateway, and its chains in the shared `table inet bock`:
        // the internal one (beta) has no NAT chain but an input one.
        auto links = run({"ip", "-br", "addr"}).out;
        CHECK_THAT(links, Catch::Contains(alpha_br + " ") && Catch::Contains(pre + ".1/24"));
        CHECK_THAT(links, Catch::Contains(beta_br + " ") && Catch::Contains("10.123.0.254/16"));
        auto table = host_table();
        INFO(table);
        CHECK_THAT(table, Catch::Contains("\"" + alpha_br + "-fwd\"") && Catch::Contains("\"" + alpha_br + "-nat\""));
        CHECK_THAT(table, Catch::Contains("\"" + beta_br + "-fwd\"") && Catch::Contains("\"" + beta_br + "-in\""));
        CHECK_THAT(table, !Catch::Contains("\"" + beta_br + "-nat\""));
        // A subnet the host already routes is refused, naming what holds it;
        // nothing is made.
        auto held = cli({"network", "create", "--subnet", "127.0.0.0/24", "held"});
        CHECK(held.code != 0);
        CHECK_THAT(held.err, Catch::Contains("overlaps the address 127.0.0.1/8 on lo"));
        CHECK(cli({"network", "inspect", "held"}).code != 0);
    }
    // Bad input: refused, nothing made.
    auto dup = cli({"network", "create", "alpha"});
    CHECK(dup.code != 0);
    CHECK_THAT(dup.err, Catch::Contains("already exists"));
    auto overlap = cli({"network", "create", "--subnet", "10.123.4.0/24", "delta"});
    CHECK(overlap.code != 0);
    CHECK_THAT(overlap.err, Catch::Contains("overlaps network `beta`"));
    CHECK(cli({"network", "create", "--subnet", "nonsense", "delta"}).code != 0);
    CHECK(cli({"network", "create", "--subnet", "10.124.0.0/24", "--gateway", "10.125.0.1", "delta"}).code != 0);
    CHECK(cli({"network", "create", "host"}).code != 0);
    CHECK(cli({"network", "create", "bad/name"}).code != 0);
    auto ls = cli({"network", "ls", "--format", "json"});
    REQUIRE(ls.code == 0);
    auto arr = nlohmann::json::parse(ls.out);
    REQUIRE(arr.size() == 3);
    CHECK(arr[0]["name"] == "alpha");
    CHECK(arr[0]["subnets"][0]["subnet"] == alpha_subnet);
    CHECK(arr[0]["subnets"][0]["gateway"] == pre + ".1");
    CHECK(arr[0]["labels"]["team"] == "blue");
    CHECK(arr[1]["name"] == "beta");
    CHECK(arr[1]["internal"] == true);
    CHECK(arr[1]["subnets"][0]["gateway"] == "10.123.0.254");
    if (!is_root()) {
        CHECK(arr[2]["subnets"][0]["subnet"] == "10.89.1.0/24");
        CHECK(arr[2]["subnets"][1]["subnet"] == "fd89:0:0:5901::/64");
    } else {
        std::string g = arr[2]["subnets"][0]["subnet"].get<std::string>();
        CHECK(g.starts_with("10.89."));
        CHECK(g != alpha_subnet);
        int third = std::stoi(g.substr(6, g.find('.', 6) - 6));
        CHECK(arr[2]["subnets"][1]["subnet"] == fmt::format("fd89:0:0:59{:02x}::/64", third));
    }
    CHECK(arr[0]["network_interface"] != arr[2]["network_interface"]);
    auto table = cli({"network", "ls"});
    CHECK_THAT(table.out, Catch::Contains("alpha") && Catch::Contains("10.123.0.0/16"));
    CHECK(cli({"network", "inspect", "nosuch"}).code != 0);
    // A stopped container: connect with --ip and --alias; the name is then
    // taken on the network; disconnect; a network in use is not removed.
    auto c = cli({"run", "--name", "stopped1", "--network", "none", "busybox", "true"});
    INFO(c.err);
    REQUIRE(c.code == 0);
    auto con = cli({"network", "connect", "--ip", pre + ".77", "--alias", "db", "alpha", "stopped1"});
    INFO(con.err);
    CHECK(con.code == 0);
    CHECK(address_on("alpha", "stopped1") == pre + ".77");
    auto again = cli({"network", "connect", "alpha", "stopped1"});
    CHECK(again.code != 0);
    auto outside = cli({"network", "connect", "--ip", "10.90.0.5", "gamma", "stopped1"});
    CHECK(outside.code != 0);
    CHECK_THAT(outside.err, Catch::Contains("not a host address"));
    auto inuse = cli({"network", "rm", "alpha"});
    CHECK(inuse.code != 0);
    CHECK_THAT(inuse.err, Catch::Contains("in use by stopped1"));
    auto prune = cli({"network", "prune", "-f"});
    CHECK(prune.code == 0);
    CHECK_THAT(prune.out, Catch::Contains("beta") && Catch::Contains("gamma") && !Catch::Contains("alpha"));
    CHECK(cli({"network", "disconnect", "alpha", "stopped1"}).code == 0);
    CHECK(address_on("alpha", "stopped1").empty());
    CHECK(cli({"network", "connect", "alpha", "stopped1"}).code == 0);
    CHECK(address_on("alpha", "stopped1") == pre + ".2");
    // bock rm releases the container's place.
    CHECK(cli({"rm", "stopped1"}).code == 0);
    CHECK(inspect_network("alpha")["containers"].empty());
    // A bock run SIGKILLed on a network: the next `bock rm` frees its
    // address and names (the responder's file too); the veth went with
    // the container's namespace.
    std::string log = tmp_dir() + "/victim.log";
    Pid victim = spawn_bock({"run", "--name", "victim", "--network", "alpha", "busybox", "sleep", "600"}, log);
    REQUIRE(eventually([&] { return cli({"ps", "-q", "--filter", "name=victim"}).out.size() > 0; }));
    CHECK(address_on("alpha", "victim") == pre + ".2");
    std::string hosts = env_or("BOCK_RUNROOT", "/nonexistent") + "/svcnet/alpha.hosts";
    CHECK_THAT(fs::read_file(hosts).value_or(""), Catch::Contains("victim"));
    (void)victim.kill(SIGKILL);
    (void)victim.wait();
    auto rmv = cli({"rm", "-f", "victim"});
    INFO(rmv.err);
    CHECK(rmv.code == 0);
    CHECK(inspect_network("alpha")["containers"].empty());
    CHECK_THAT(fs::read_file(hosts).value_or("gone"), !Catch::Contains("victim"));
    CHECK(eventually([&] { return private_links().find("master " + alpha_br + " ") == std::string::npos; }, 5000));
    CHECK_THAT(private_links(), Catch::Contains(alpha_br));
    auto rm = cli({"network", "rm", "alpha"});
    CHECK(rm.code == 0);
    CHECK(our_responders().empty());
    CHECK(our_responders("bock-netns").empty());
    // Root: nothing of the three networks left on the host.
    if (is_root()) CHECK(host_leftovers({alpha_br, beta_br, gamma_br}, {pre + ".1", "10.123.0.254"}) == "");
    CHECK(cli({"network", "ls", "-q"}).out.empty());
    if (is_root()) {
        // A `network create` killed after it made its bridge, before its
        // record: the bridge (marked as this store's, no record) is
        // collected by the next create. A bridge not marked as this
        // store's is never touched.
        std::string orphan = fmt::format("bkorph{}", ::getpid() % 100000);
        std::string foreign = fmt::format("bkforn{}", ::getpid() % 100000);
        REQUIRE(run({"ip", "link", "add", orphan, "type", "bridge"}).code == 0);
        REQUIRE(run({"ip", "link", "add", foreign, "type", "bridge"}).code == 0);
        CHECK(fs::write_file("/sys/class/net/" + orphan + "/ifalias",
                             "bock-net 0123456789abcdef " + env_or("BOCK_ROOT", "/nonexistent") + "/networks"));
        auto next = cli({"network", "create", "epsilon"});
        CHECK(next.code == 0);
        CHECK(!fs::exists("/sys/class/net/" + orphan));
        CHECK(fs::exists("/sys/class/net/" + foreign));
        (void)run({"ip", "link", "del", orphan});
        (void)run({"ip", "link", "del", foreign});
        std::string eps_br = bridge_of("epsilon");
        CHECK(cli({"network", "rm", "epsilon"}).code == 0);
        CHECK(host_leftovers({eps_br}, {}) == "");
    }
    // --network with an unknown name: refused before anything is made.
    auto unknown = cli({"run", "--rm", "--network", "nosuch", "busybox", "true"});
    CHECK(unknown.code == 125);
    CHECK_THAT(unknown.err, Catch::Contains("no such network"));
    CHECK(cli({"ps", "-a", "-q"}).out.empty());
}

void check_network_traffic() {
    std::string script = tmp_dir() + "/resolver.py", port_file = tmp_dir() + "/resolver.port";
    REQUIRE(fs::write_file(script, kResolverScript));
    pid_t rp = ::fork();
    if (rp == 0) {
        ::execlp("python3", "python3", script.c_str(), port_file.c_str(), "10.9.8.7", nullptr);
        ::_exit(127);
    }
    Pid resolver(rp);
    REQUIRE(eventually([&] { return fs::exists(port_file); }));
    std::string upstream = "127.0.0.1:" + *fs::read_file(port_file);
    REQUIRE(cli({"network", "create", "front"}).code == 0);
    REQUIRE(cli({"network", "create", "other"}).code == 0);
    // web serves its page, and what it resolves for `late` (started after it).
    std::string web_log = tmp_dir() + "/web.log";
    Pid web = spawn_bock({"run", "--rm", "--name", "web", "--network", "front", "--network-alias", "www",
                          "--dns-upstream", upstream, "busybox", "sh", "-c",
                          "mkdir -p /www && echo hello-from-web > /www/index.html && httpd -p 80 -h /www && "
                          "while true; do nslookup late > /www/t 2>&1; mv /www/t /www/late.txt; sleep 0.3; done"},
                         web_log);
    std::string web_ip;
    bool up = eventually([&] {
        web_ip = address_on("front", "web");
        return !web_ip.empty();
    });
    INFO(fs::read_file(web_log).value_or(""));
    REQUIRE(up);
    auto front = inspect_network("front");
    std::string front_gw = front["subnets"][0]["gateway"].get<std::string>();
    std::string front_br = bridge_of("front"), other_br = bridge_of("other");
    std::string other_gw = inspect_network("other")["subnets"][0]["gateway"].get<std::string>();
    CHECK(web_ip.starts_with(front_gw.substr(0, front_gw.rfind('.') + 1)));
    if (!is_root()) CHECK(web_ip.starts_with("10.89.0."));
    // A client on the same network: by name, by alias; other names go to
    // the upstream (the test's resolver).
    const std::string fetch = "for i in $(seq 100); do wget -qO- http://$0/index.html 2>/dev/null && break; sleep 0.2; done";
    auto client = cli({"run", "--rm", "--name", "client", "--network", "front", "busybox", "sh", "-c",
                       "cat /etc/resolv.conf; " + fetch + "; sh -c \"$1\" web; sh -c \"$1\" www; nslookup outside.test",
                       fetch, fetch});
    INFO(client.err);
    CHECK(client.code == 0);
    CHECK_THAT(client.out, Catch::Contains("nameserver " + front_gw));
    CHECK(client.out.find("hello-from-web") != client.out.rfind("hello-from-web"));  // twice: name and alias
    CHECK_THAT(client.out, Catch::Contains("10.9.8.7"));
    // A container started later resolves for the first.
    std::string late_log = tmp_dir() + "/late.log";
    Pid late = spawn_bock({"run", "--rm", "--name", "late", "--network", "front", "busybox", "sleep", "600"}, late_log);
    std::string late_ip;
    REQUIRE(eventually([&] {
        late_ip = address_on("front", "late");
        return !late_ip.empty();
    }));
    // Asked from inside the first container (bock exec), each try its own
    // lookup: its own loop's file is kept for the log.
    auto seen = cli({"exec", "web", "sh", "-c",
                     "for i in $(seq 60); do nslookup late 2>&1 | grep -q \"$0\" && echo resolved && break; "
                     "sleep 0.3; done; date; nslookup late; cat /www/late.txt",
                     late_ip});
    INFO(seen.out + seen.err);
    CHECK_THAT(seen.out, Catch::Contains("resolved"));
    // Another network: neither the name nor the address (dropped: no answer
    // at all, so wget would wait ~2 min for its connect without `timeout`).
    auto stranger = cli({"run", "--rm", "--network", "other", "busybox", "sh", "-c",
                         "nslookup web; timeout 5 wget -qO- http://" + web_ip + "/index.html || echo unreachable"});
    CHECK_THAT(stranger.out, Catch::Contains("unreachable"));
    CHECK_THAT(stranger.out, !Catch::Contains("hello-from-web"));
    CHECK_THAT(stranger.out, !Catch::Contains(web_ip));
    // The way out (bock-netns behind the private namespace): 10.0.2.2 is
    // slirp's gateway, on the host's side. An --internal network has no
    // route out, even when its container adds one.
    REQUIRE(cli({"network", "create", "--internal", "closed"}).code == 0);
    std::string closed_br = bridge_of("closed");
    if (is_root()) {
        // Host mode: out through the host's routing to a namespace this test
        // joined to the host; the server sees the host's address there
        // (masquerade), not the container's. --internal: nothing, even
        // with a route added.
        Outside outside = make_outside();
        const std::string get = "for i in $(seq 20); do timeout 3 wget -qO- http://" + outside.ip +
                                ":8080/ 2>/dev/null && exit 0; sleep 0.2; done; echo unreachable";
        auto out = cli({"run", "--rm", "--network", "other", "busybox", "sh", "-c", get});
        INFO(out.out + out.err);
        CHECK_THAT(out.out, Catch::Contains("from-outside " + outside.host_ip));
        auto closed = cli({"run", "--rm", "--network", "closed", "--cap-add", "NET_ADMIN", "busybox", "sh", "-c",
                           "timeout 3 wget -qO- http://" + outside.ip + ":8080/ && echo out-ok; ip route add default via "
                           "$(sed -n 's/nameserver //p' /etc/resolv.conf) && echo route-added && timeout 3 wget -qO- "
                           "http://" + outside.ip + ":8080/ && echo out-ok; timeout 3 wget -qO- http://" + other_gw +
                           ":1/ ; echo done"});
        INFO(closed.out + closed.err);
        CHECK_THAT(closed.out, Catch::Contains("done") && Catch::Contains("route-added"));
        CHECK_THAT(closed.out, !Catch::Contains("out-ok") && !Catch::Contains("from-outside"));
        // The host's other addresses are dropped for it (no "connection
        // refused" from the host: the packet never got there).
        CHECK_THAT(closed.err, !Catch::Contains("refused"));
        (void)outside.server.kill(SIGKILL);
        (void)outside.server.wait();
    } else {
        // (busybox's ping opens a raw socket: NET_RAW, which the default set lacks.)
        auto out = cli({"run", "--rm", "--network", "other", "--cap-add", "NET_RAW", "busybox", "sh", "-c",
                        "ping -c 1 -W 5 10.0.2.2 && echo out-ok"});
        INFO(out.out + out.err);
        CHECK_THAT(out.out, Catch::Contains("out-ok"));
        auto closed = cli({"run", "--rm", "--network", "closed", "--cap-add", "NET_RAW", "--cap-add", "NET_ADMIN", "busybox",
                           "sh", "-c",
                           "ip route; ping -c 1 -W 2 10.0.2.2 && echo out-ok; ip route add default via $(sed -n "
                           "'s/nameserver //p' /etc/resolv.conf) && echo route-added && ping -c 1 -W 2 10.0.2.2 && "
                           "echo out-ok; echo done"});
        INFO(closed.out + closed.err);
        CHECK_THAT(closed.out, Catch::Contains("done") && Catch::Contains("route-added"));
        CHECK_THAT(closed.out, !Catch::Contains("out-ok") && !Catch::Contains("default"));
    }
    CHECK(cli({"network", "rm", "closed"}).code == 0);
    // A network in use is not removed; the error names its containers.
    auto inuse = cli({"network", "rm", "front"});
    CHECK(inuse.code != 0);
    CHECK_THAT(inuse.err, Catch::Contains("web") && Catch::Contains("late"));
    CHECK(our_responders().size() == 2);
    // The way out: rootless a bock-netns; root the host (no port published: no helper).
    CHECK(our_responders("bock-netns").size() == (is_root() ? 0u : 1u));
    CHECK_THAT(private_links(), Catch::Contains(front_br) && Catch::Contains(other_br));
    // rm -f of everything, then network rm: no link, bridge or responder left.
    CHECK(cli({"rm", "-f", "web", "late"}).code == 0);
    (void)web.wait();
    (void)late.wait();
    CHECK(inspect_network("front")["containers"].empty());
    CHECK(cli({"network", "rm", "front", "other"}).code == 0);
    CHECK(our_responders().empty());
    CHECK(our_responders("bock-netns").empty());
    // The last network gone: its bock-netns too, and the private namespace
    // with its links (its bind mount would otherwise stay until reboot).
    // (This test's own path: as root the table is the host's, where other
    // tests running at the same time have theirs.)
    std::string own_ns = env_or("BOCK_RUNROOT", "/nonexistent") + "/svcnet/netns";
    CHECK(!fs::exists(own_ns));
    CHECK_THAT(session_mount_table(), !Catch::Contains(own_ns + " "));
    if (is_root()) CHECK(host_leftovers({front_br, other_br, closed_br}, {front_gw, other_gw}) == "");
}

void check_network_detached() {
    REQUIRE(cli({"network", "create", "dnet"}).code == 0);
    // One with -d, one with create + start: both behind a monitor.
    auto a = cli({"run", "-d", "--name", "srv", "--network", "dnet", "busybox", "sh", "-c",
                  "mkdir -p /www && echo from-srv > /www/index.html && exec httpd -f -p 80 -h /www"});
    INFO(a.err);
    REQUIRE(a.code == 0);
    auto b = cli({"create", "--name", "cli", "--network", "dnet", "busybox", "sleep", "600"});
    INFO(b.err);
    REQUIRE(b.code == 0);
    auto started = cli({"start", "cli"});
    INFO(started.err);
    REQUIRE(started.code == 0);
    std::string srv_ip = address_on("dnet", "srv"), cli_ip = address_on("dnet", "cli");
    CHECK(srv_ip.starts_with("10.89."));
    CHECK(cli_ip.starts_with("10.89."));
    std::string dnet_br = bridge_of("dnet");
    // By name, both ways (httpd may need a moment to listen).
    const std::string fetch =
        "for i in $(seq 100); do wget -qO- http://srv/index.html 2>/dev/null && exit 0; sleep 0.2; done; exit 1";
    auto got = cli({"exec", "cli", "sh", "-c", fetch});
    INFO(got.out + got.err);
    CHECK(got.code == 0);
    CHECK_THAT(got.out, Catch::Contains("from-srv"));
    auto back = cli({"exec", "srv", "nslookup", "cli"});
    INFO(back.out + back.err);
    CHECK_THAT(back.out, Catch::Contains(cli_ip));
    // A restart: a new namespace, plugged again, the same address and name.
    auto rs = cli({"restart", "-t", "1", "srv"});
    INFO(rs.err);
    REQUIRE(rs.code == 0);
    CHECK(address_on("dnet", "srv") == srv_ip);
    auto again = cli({"exec", "cli", "sh", "-c", fetch});
    INFO(again.out + again.err);
    CHECK(again.code == 0);
    CHECK_THAT(again.out, Catch::Contains("from-srv"));
    auto ip = cli({"exec", "srv", "ip", "-o", "-4", "addr", "show", "eth0"});
    CHECK_THAT(ip.out, Catch::Contains(srv_ip + "/"));
    // rm -f: no veth left on the bridge, the network free to go.
    CHECK_THAT(private_links(), Catch::Contains("master " + dnet_br + " "));
    auto rm = cli({"rm", "-f", "srv", "cli"});
    INFO(rm.err);
    CHECK(rm.code == 0);
    CHECK(inspect_network("dnet")["containers"].empty());
    CHECK(eventually([&] { return private_links().find("master " + dnet_br + " ") == std::string::npos; }, 5000));
    CHECK(cli({"network", "rm", "dnet"}).code == 0);
    CHECK(our_responders().empty());
    CHECK(our_responders("bock-netns").empty());
    if (is_root()) CHECK(host_leftovers({dnet_br}, {}) == "");
}

void check_network_ports() {
    // A subnet of its own (the networks live in this test's own private
    // namespace, but as root the ports are the host's loopback).
    REQUIRE(cli({"network", "create", "--subnet", "10.131.7.0/24", "pubnet"}).code == 0);
    std::string pub_br = bridge_of("pubnet");
    const std::string serve = "mkdir -p /www && echo hello-published > /www/index.html && exec httpd -f -p 80 -h /www";
    uint16_t p4 = lo_free_port(), p6 = lo_free_port();
    std::string log = tmp_dir() + "/pweb.log";
    Pid web = spawn_bock({"run", "--rm", "--name", "pweb", "--network", "pubnet", "-p",
                          fmt::format("127.0.0.1:{}:80", p4), "-p", fmt::format("[::1]:{}:80", p6), "busybox", "sh",
                          "-c", serve},
                         log);
    bool up = eventually([&] { return lo_http_get(p4, "/index.html").find("hello-published") != std::string::npos; });
    INFO(fs::read_file(log).value_or(""));
    REQUIRE(up);
    CHECK_THAT(lo_http_get6(p6, "/index.html"), Catch::Contains("hello-published"));
    auto port = cli({"port", "pweb"});
    CHECK_THAT(port.out, Catch::Contains(fmt::format("80/tcp -> 127.0.0.1:{}", p4)));
    CHECK_THAT(cli({"ps"}).out, Catch::Contains(fmt::format("127.0.0.1:{}->80/tcp", p4)));
    // A port in use: a clear error, no container, address or port left.
    auto busy = cli({"run", "--rm", "--name", "busy", "--network", "pubnet", "-p", fmt::format("127.0.0.1:{}:80", p4),
                     "busybox", "true"});
    CHECK(busy.code != 0);
    CHECK_THAT(busy.err, Catch::Contains(fmt::format("port {} is already in use", p4)));
    CHECK(cli({"ps", "-a", "--format", "{{.Names}}"}).out == "pweb\n");
    CHECK(address_on("pubnet", "busy").empty());
    CHECK_THAT(lo_http_get(p4, "/index.html"), Catch::Contains("hello-published"));
    // Detached: through stop and start; a stopped container's port is free.
    uint16_t q = lo_free_port();
    auto d = cli({"run", "-d", "--name", "dweb", "--network", "pubnet", "-p", fmt::format("127.0.0.1:{}:80", q),
                  "busybox", "sh", "-c", serve});
    INFO(d.err);
    REQUIRE(d.code == 0);
    CHECK(eventually([&] { return lo_http_get(q, "/index.html").find("hello-published") != std::string::npos; }));
    REQUIRE(cli({"stop", "-t", "1", "dweb"}).code == 0);
    CHECK(eventually([&] { return !lo_port_bound(q); }, 5000));
    auto st = cli({"start", "dweb"});
    INFO(st.err);
    REQUIRE(st.code == 0);
    CHECK(eventually([&] { return lo_http_get(q, "/index.html").find("hello-published") != std::string::npos; }));
    // connect/disconnect of a running container: a new interface now,
    // reached by name from the other network; gone after disconnect.
    REQUIRE(cli({"network", "create", "--subnet", "10.131.9.0/24", "side"}).code == 0);
    std::string side_br = bridge_of("side");
    auto con = cli({"network", "connect", "--alias", "sideweb", "side", "dweb"});
    INFO(con.err);
    REQUIRE(con.code == 0);
    std::string side_ip = address_on("side", "dweb");
    CHECK(side_ip.starts_with("10.131.9."));
    auto eth1 = cli({"exec", "dweb", "ip", "-o", "-4", "addr", "show", "eth1"});
    CHECK_THAT(eth1.out, Catch::Contains(side_ip + "/24"));
    const std::string fetch = "for i in $(seq 50); do wget -qO- http://sideweb/index.html 2>/dev/null && exit 0; "
                              "sleep 0.2; done; echo unreachable; exit 1";
    auto peer = cli({"run", "--rm", "--network", "side", "busybox", "sh", "-c", fetch});
    INFO(peer.out + peer.err);
    CHECK_THAT(peer.out, Catch::Contains("hello-published"));
    auto dis = cli({"network", "disconnect", "side", "dweb"});
    INFO(dis.err);
    CHECK(dis.code == 0);
    CHECK(address_on("side", "dweb").empty());
    CHECK(cli({"exec", "dweb", "ip", "link", "show", "eth1"}).code != 0);
    auto gone = cli({"run", "--rm", "--network", "side", "busybox", "sh", "-c",
                     "wget -qO- http://" + side_ip + "/index.html 2>/dev/null || echo unreachable"});
    CHECK_THAT(gone.out, Catch::Contains("unreachable") && !Catch::Contains("hello-published"));
    CHECK(cli({"network", "rm", "side"}).code == 0);
    if (is_root()) {
        // Root: a port published on a non-loopback host address goes through
        // nftables DNAT (the container's chain ctr-<id 12> in `table inet
        // bock`): a client in a namespace the test joined to the host
        // reaches it there, and the server sees the client itself (through
        // the userspace forwarder it would see the gateway). rm -f removes
        // the chain.
        Outside outside = make_outside();
        uint16_t dp = lo_free_port();
        const std::string cgi =
            "mkdir -p /www/cgi-bin && printf '#!/bin/sh\\nprintf \"Content-Type: text/plain\\\\r\\\\n\\\\r\\\\n"
            "remote=%%s\\\\n\" \"$REMOTE_ADDR\"\\n' > /www/cgi-bin/addr && chmod 755 /www/cgi-bin/addr && "
            "exec httpd -f -p 80 -h /www";
        auto dn = cli({"run", "-d", "--name", "dnweb", "--network", "pubnet", "-p",
                       fmt::format("{}:{}:80", outside.host_ip, dp), "busybox", "sh", "-c", cgi});
        INFO(dn.err);
        REQUIRE(dn.code == 0);
        std::string chain = "ctr-" + dn.out.substr(0, 12);
        CHECK_THAT(host_table(), Catch::Contains("\"" + chain + "\""));
        std::string get = fmt::format("for i in $(seq 50); do busybox wget -qO- http://{}:{}/cgi-bin/addr 2>/dev/null "
                                      "&& exit 0; sleep 0.2; done; echo unreachable",
                                      outside.host_ip, dp);
        auto seen = run({"nsenter", "-t", std::to_string(outside.server.get()), "-n", "sh", "-c", get});
        INFO(seen.out + seen.err);
        CHECK_THAT(seen.out, Catch::Contains("remote=") && Catch::Contains(outside.ip));  // ([::ffff:10.201.N.2]: httpd listens on [::])
        CHECK(cli({"rm", "-f", "dnweb"}).code == 0);
        CHECK_THAT(host_table(), !Catch::Contains("\"" + chain + "\""));
        auto after = run({"nsenter", "-t", std::to_string(outside.server.get()), "-n", "sh", "-c",
                          fmt::format("timeout 3 busybox wget -qO- http://{}:{}/cgi-bin/addr || echo unreachable",
                                      outside.host_ip, dp)});
        CHECK_THAT(after.out, Catch::Contains("unreachable") && !Catch::Contains("remote="));
        (void)outside.server.kill(SIGKILL);
        (void)outside.server.wait();
    }
    // A foreground bock run SIGKILLed: the next `bock rm -f` frees its port.
    uint16_t k = lo_free_port();
    std::string klog = tmp_dir() + "/killed.log";
    Pid killed = spawn_bock({"run", "--name", "killed", "--network", "pubnet", "-p", fmt::format("127.0.0.1:{}:80", k),
                             "busybox", "sh", "-c", serve},
                            klog);
    bool served = eventually([&] { return lo_http_get(k, "/index.html").find("hello-published") != std::string::npos; });
    INFO(fs::read_file(klog).value_or(""));
    CHECK(served);
    (void)killed.kill(SIGKILL);
    (void)killed.wait();
    auto rmk = cli({"rm", "-f", "killed"});
    INFO(rmk.err);
    CHECK(rmk.code == 0);
    CHECK(!lo_port_bound(k));
    // rm -f: the ports are free when it returns.
    auto rm = cli({"rm", "-f", "pweb", "dweb"});
    INFO(rm.err);
    CHECK(rm.code == 0);
    (void)web.wait();
    CHECK(!lo_port_bound(p4));
    CHECK(!lo_port_bound(q));
    CHECK(cli({"network", "rm", "pubnet"}).code == 0);
    CHECK(our_responders().empty());
    CHECK(our_responders("bock-netns").empty());
    if (is_root()) CHECK(host_leftovers({pub_br, side_br}, {"10.131.7.1", "10.131.9.1"}) == "");
    // -p on an --internal network: refused before anything is made.
    REQUIRE(cli({"network", "create", "--internal", "--subnet", "10.131.8.0/24", "shut"}).code == 0);
    auto internal = cli({"run", "--rm", "--network", "shut", "-p", "127.0.0.1::80", "busybox", "true"});
    CHECK(internal.code != 0);
    CHECK_THAT(internal.err, Catch::Contains("--internal"));
    CHECK(cli({"network", "rm", "shut"}).code == 0);
    CHECK(cli({"ps", "-a", "-q"}).out.empty());
}

}  // namespace bock::test
