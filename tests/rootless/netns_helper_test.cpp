// bock-netns against network namespaces the test makes itself
// (`unshare -Urn sleep`), as the unprivileged test user. Traffic goes only
// to the host's loopback or into those namespaces; DNS always goes to the
// test's own resolver on 127.0.0.1 (--dns-upstream).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include <catch2/catch.hpp>

#include "bock/common/fd.hpp"
#include "bock/common/fs.hpp"
#include "bock/common/pid.hpp"
#include "bock/common/sys.hpp"
#include "testlib.hpp"
#include "net_fixtures.hpp"

using namespace bock;
using namespace bock::test;

namespace {

void require_tools() {
    if (::access("/dev/net/tun", R_OK | W_OK) != 0) skip("/dev/net/tun is not usable by this user");
    for (const char* p : {"/usr/bin/unshare", "/usr/bin/nsenter", "/bin/busybox", "/usr/bin/python3"})
        if (::access(p, X_OK) != 0) skip(std::string(p) + " is missing");
}

// Forks and execs argv; stdin /dev/null, stdout and stderr to `log`
// (or inherited), and extra fds moved to 3, 4, ... in order.
Pid spawn(const std::vector<std::string>& argv, const std::string& log = {}, std::vector<int> fds = {}) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int devnull = ::open("/dev/null", O_RDONLY);
        ::dup2(devnull, 0);
        if (!log.empty()) {
            int l = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
            ::dup2(l, 1);
            ::dup2(l, 2);
        }
        // Move the passed fds above any target first, then into place.
        std::vector<int> high;
        for (int fd : fds) high.push_back(::fcntl(fd, F_DUPFD, 100));
        for (size_t i = 0; i < high.size(); ++i) ::dup2(high[i], 3 + static_cast<int>(i));
        std::vector<char*> a;
        for (auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
        a.push_back(nullptr);
        ::execvp(a[0], a.data());
        ::_exit(127);
    }
    return Pid(pid);
}

uint16_t free_port(int family = AF_INET, int type = SOCK_STREAM) {
    Fd s(::socket(family, type | SOCK_CLOEXEC, 0));
    sockaddr_storage ss{};
    socklen_t len;
    if (family == AF_INET) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *sin;
    } else {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
        sin6->sin6_family = AF_INET6;
        sin6->sin6_addr = in6addr_loopback;
        len = sizeof *sin6;
    }
    REQUIRE(::bind(s.get(), reinterpret_cast<sockaddr*>(&ss), len) == 0);
    REQUIRE(::getsockname(s.get(), reinterpret_cast<sockaddr*>(&ss), &len) == 0);
    return ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                   : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

std::string read_text(const std::string& path) { return fs::read_file(path).value_or(std::string()); }

bool wait_until(const std::function<bool()>& cond, int ms = 5000) {
    for (int i = 0; i < ms / 10; ++i) {
        if (cond()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return cond();
}

// A network namespace owned by a user namespace, both made by the test
// user, held by `sleep` (its pid is the namespace's "init").
struct Namespace {
    Pid init;
    pid_t pid() const { return init.get(); }

    Namespace() {
        init = spawn({"unshare", "-Urn", "sleep", "600"});
        pid_t p = init.get();
        REQUIRE(wait_until([p] { return read_text(fmt::format("/proc/{}/comm", p)) == "sleep\n"; }));
    }
    // Runs argv inside (as uid 0 of the user namespace, the host's file system).
    Run exec(const std::vector<std::string>& argv) const {
        std::vector<std::string> a = {"nsenter", "-t", std::to_string(pid()), "-U", "-n", "--preserve-credentials"};
        a.insert(a.end(), argv.begin(), argv.end());
        return run(a);
    }
    Pid spawn_in(const std::vector<std::string>& argv, const std::string& log) const {
        std::vector<std::string> a = {"nsenter", "-t", std::to_string(pid()), "-U", "-n", "--preserve-credentials"};
        a.insert(a.end(), argv.begin(), argv.end());
        return spawn(a, log);
    }
};

struct Helper {
    Pid pid;
    Fd exit_w;
    std::string log;
    bool ready = false;

    std::string output() const { return read_text(log); }
};

// Starts bock-netns against ns and waits for its ready fd: "1", or EOF
// when it failed (then ready is false and log says why).
Helper start_helper(const Namespace& ns, const std::vector<std::string>& extra) {
    static int n = 0;
    Helper h;
    h.log = fmt::format("{}/netns-{}.log", tmp_dir(), ++n);
    int ready[2], exitp[2];
    REQUIRE(::pipe2(ready, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(exitp, O_CLOEXEC) == 0);
    Fd ready_r(ready[0]), ready_w(ready[1]), exit_r(exitp[0]);
    h.exit_w = Fd(exitp[1]);
    std::vector<std::string> argv = {bin("bock-netns"), "--netns-pid", std::to_string(ns.pid()),
                                     "--userns-path", fmt::format("/proc/{}/ns/user", ns.pid()),
                                     "--ready-fd", "3", "--exit-fd", "4"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    h.pid = spawn(argv, h.log, {ready_w.get(), exit_r.get()});
    ready_w.reset();
    exit_r.reset();
    pollfd p{ready_r.get(), POLLIN, 0};
    REQUIRE(::poll(&p, 1, 10000) == 1);
    char c = 0;
    h.ready = ::read(ready_r.get(), &c, 1) == 1 && c == '1';
    return h;
}

// Waits up to ms for the helper to exit; its exit code, or -1.
int wait_exit(Helper& h, int ms = 5000) {
    int status = 0;
    for (int i = 0; i < ms / 10; ++i) {
        pid_t r = ::waitpid(h.pid.get(), &status, WNOHANG);
        if (r == h.pid.get()) {
            h.pid.detach();
            return exit_code_from_status(status);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
}

sockaddr_storage loopback(int family, uint16_t port, const char* ip = nullptr) {
    sockaddr_storage ss{};
    if (family == AF_INET) {
        auto* s = reinterpret_cast<sockaddr_in*>(&ss);
        s->sin_family = AF_INET;
        ::inet_pton(AF_INET, ip ? ip : "127.0.0.1", &s->sin_addr);
        s->sin_port = htons(port);
    } else {
        auto* s = reinterpret_cast<sockaddr_in6*>(&ss);
        s->sin6_family = AF_INET6;
        ::inet_pton(AF_INET6, ip ? ip : "::1", &s->sin6_addr);
        s->sin6_port = htons(port);
    }
    return ss;
}
socklen_t len_of(int family) { return family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6); }

// One HTTP/1.0 GET from the host, optionally from a chosen source address;
// the whole response ("" when the connection failed).
std::string http_get(int family, uint16_t port, const std::string& path, const char* source = nullptr) {
    Fd s(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (source) {
        auto src = loopback(family, 0, source);
        REQUIRE(::bind(s.get(), reinterpret_cast<sockaddr*>(&src), len_of(family)) == 0);
    }
    auto dst = loopback(family, port);
    return http_get_on(s, reinterpret_cast<sockaddr*>(&dst), len_of(family), path);
}

// A busybox httpd inside ns on ADDR:PORT whose /cgi-bin/addr prints the
// client address it sees, and /hello.txt says hello.
Pid httpd_in(const Namespace& ns, const std::string& listen) {
    std::string root = tmp_dir() + "/www";
    (void)fs::mkdir_p(root + "/cgi-bin");
    REQUIRE(fs::write_file(root + "/hello.txt", "hello from the container\n"));
    REQUIRE(fs::write_file(root + "/cgi-bin/addr",
                           "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\nremote=%s\\n' \"$REMOTE_ADDR\"\n"));
    ::chmod((root + "/cgi-bin/addr").c_str(), 0755);
    Pid p = ns.spawn_in({"/bin/busybox", "httpd", "-f", "-p", listen, "-h", root}, tmp_dir() + "/httpd.log");
    return p;
}

bool port_answers(int family, uint16_t port) { return !http_get(family, port, "/hello.txt").empty(); }

std::string api_call(const std::string& socket, const std::string& request) {
    Fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strncpy(sa.sun_path, socket.c_str(), sizeof sa.sun_path - 1);
    REQUIRE(::connect(s.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    std::string line = request + "\n";
    REQUIRE(::send(s.get(), line.data(), line.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(line.size()));
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(s.get(), buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
    return out;
}

const char* kUdpEcho = R"(
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    d, peer = s.recvfrom(4096)
    s.sendto(b"echo " + d + b" from " + peer[0].encode(), peer)
)";

// One ICMP echo over a datagram ICMP socket (no CAP_NET_RAW needed when
// net.ipv4.ping_group_range admits the group).
const char* kPing = R"(
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
s.settimeout(5)
s.sendto(struct.pack("!BBHHH", 8, 0, 0, 0, 1) + b"bock", (sys.argv[1], 0))
data, peer = s.recvfrom(1024)
if data[0] == 0:
    print("reply from", peer[0])
)";

}  // namespace

TEST_CASE("bock-netns says ready only after locking itself down", "[netns]") {
    require_tools();
    Namespace ns;
    auto h = start_helper(ns, {"--dns-upstream", "127.0.0.1:9", "--allow-host-loopback"});
    INFO(h.output());
    REQUIRE(h.ready);
    auto status = read_text(fmt::format("/proc/{}/status", h.pid.get()));
    CHECK(status.find("CapEff:\t0000000000000000") != std::string::npos);
    CHECK(status.find("CapBnd:\t0000000000000000") != std::string::npos);
    CHECK(status.find("NoNewPrivs:\t1") != std::string::npos);
    CHECK(status.find("Seccomp:\t2") != std::string::npos);
    // Every thread's root holds only /etc and /run, and every thread is
    // locked down (capabilities and no_new_privs are per thread).
    auto tasks = run({"ls", fmt::format("/proc/{}/task", h.pid.get())});
    // The main loop and the two forwarders (host loopback is allowed).
    REQUIRE(lines(tasks.out).size() == 3);
    for (const auto& tid : lines(tasks.out)) {
        std::string task = fmt::format("/proc/{}/task/{}", h.pid.get(), tid);
        std::vector<std::string> names;
        for (const char* n : {"etc", "run", "home", "usr", "tmp", "proc", "dev"})
            if (::access((task + "/root/" + n).c_str(), F_OK) == 0) names.push_back(n);
        CHECK(names == std::vector<std::string>{"etc", "run"});
        auto st = read_text(task + "/status");
        CHECK(st.find("CapEff:\t0000000000000000") != std::string::npos);
        CHECK(st.find("CapPrm:\t0000000000000000") != std::string::npos);
        CHECK(st.find("NoNewPrivs:\t1") != std::string::npos);
        CHECK(st.find("Seccomp:\t2") != std::string::npos);
    }
    // Read-only: the mount options of its root mounts say so.
    auto mounts = read_text(fmt::format("/proc/{}/mountinfo", h.pid.get()));
    for (const auto& line : lines(mounts)) CHECK(line.find(" ro") != std::string::npos);

    // The container's side: tap0 with the addresses, routes and MTU.
    auto addr = ns.exec({"ip", "-o", "addr", "show", "dev", "tap0"});
    CHECK(addr.out.find("10.0.2.100/24") != std::string::npos);
    CHECK(addr.out.find("fd00::100/64") != std::string::npos);
    CHECK(ns.exec({"ip", "link", "show", "tap0"}).out.find("mtu 65520") != std::string::npos);
    CHECK(ns.exec({"ip", "route"}).out.find("default via 10.0.2.2 dev tap0") != std::string::npos);
    CHECK(ns.exec({"ip", "-6", "route"}).out.find("default via fd00::2 dev tap0") != std::string::npos);
    // ping for every group mapped here (only gid 0 in this namespace).
    CHECK(ns.exec({"cat", "/proc/sys/net/ipv4/ping_group_range"}).out == "0\t0\n");
    // Without CAP_NET_RAW: an ICMP echo ("ping") socket, allowed by that
    // range (busybox 1.35's ping only knows raw sockets; iputils' is absent).
    std::string script = tmp_dir() + "/ping.py";
    REQUIRE(fs::write_file(script, kPing));
    auto ping = ns.exec({"setpriv", "--inh-caps=-all", "--bounding-set=-all", "python3", script, "10.0.2.2"});
    INFO(ping.out << ping.err);
    CHECK(ping.out == "reply from 10.0.2.2\n");
    // The negative control: no raw socket without the capability.
    auto raw = ns.exec({"setpriv", "--inh-caps=-all", "--bounding-set=-all", "/bin/busybox", "ping", "-c", "1", "10.0.2.2"});
    CHECK(raw.code != 0);
}

TEST_CASE("bock-netns stops when its exit fd closes or the container's init exits", "[netns]") {
    require_tools();
    {
        Namespace ns;
        auto h = start_helper(ns, {"--dns-upstream", "127.0.0.1:9"});
        REQUIRE(h.ready);
        CHECK(wait_exit(h, 300) == -1);  // still serving
        h.exit_w.reset();
        CHECK(wait_exit(h) == 0);
    }
    {
        // The container killed with SIGKILL: no helper left, no port bound.
        Namespace ns;
        uint16_t port = free_port();
        auto h = start_helper(ns, {"--dns-upstream", "127.0.0.1:9", "--publish", fmt::format("127.0.0.1:{}:80", port)});
        REQUIRE(h.ready);
        REQUIRE(ns.init.kill(SIGKILL));
        (void)ns.init.wait();
        CHECK(wait_exit(h) == 0);
        Fd again(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        auto a = loopback(AF_INET, port);
        CHECK(::bind(again.get(), reinterpret_cast<sockaddr*>(&a), sizeof(sockaddr_in)) == 0);
    }
}

TEST_CASE("bock-netns started before its pid (--netns-sock), with no exit fd, lives as long as init", "[netns]") {
    // bock run's way: the helper in the user namespace that owns the
    // network namespace (bock's session; here nsenter -U), the pid and the
    // namespace's fd sent later, no exit fd: it is the container's, not
    // its starter's.
    require_tools();
    Namespace ns;
    uint16_t port = free_port();
    int ready[2], pidsock[2];
    REQUIRE(::pipe2(ready, O_CLOEXEC) == 0);
    REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pidsock) == 0);
    Fd ready_r(ready[0]), ready_w(ready[1]), pid_w(pidsock[0]), pid_r(pidsock[1]);
    std::string log = tmp_dir() + "/netns-pidfd.log";
    Helper h;
    h.log = log;
    h.pid = spawn({"nsenter", "-t", std::to_string(ns.pid()), "-U", "--preserve-credentials", bin("bock-netns"),
                   "--netns-sock", "4", "--ready-fd", "3", "--dns-upstream", "127.0.0.1:9", "--publish",
                   fmt::format("127.0.0.1:{}:80", port)},
                  log, {ready_w.get(), pid_r.get()});
    ready_w.reset();
    pid_r.reset();
    auto bound = [port] {
        Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        int one = 1;
        ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        auto a = loopback(AF_INET, port);
        return ::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof(sockaddr_in)) != 0;
    };
    // The port is bound before the pid is known.
    INFO(read_text(log));
    REQUIRE(wait_until(bound));
    std::string text = std::to_string(ns.pid()) + "\n";
    auto netns = sys::open(fmt::format("/proc/{}/ns/net", ns.pid()), O_RDONLY);
    REQUIRE(netns);
    REQUIRE(sys::raw::send_with_fd(pid_w.get(), text.data(), text.size(), netns->get()) ==
            static_cast<ssize_t>(text.size()));
    pid_w.reset();
    pollfd p{ready_r.get(), POLLIN, 0};
    REQUIRE(::poll(&p, 1, 10000) == 1);
    char c = 0;
    REQUIRE(::read(ready_r.get(), &c, 1) == 1);
    CHECK(c == '1');
    CHECK(wait_exit(h, 300) == -1);  // serving, though nobody holds an exit fd
    CHECK(bound());
    // init exits: the ready fd's EOF says the ports are free, then it exits.
    REQUIRE(ns.init.kill(SIGKILL));
    (void)ns.init.wait();
    REQUIRE(::poll(&p, 1, 5000) == 1);
    CHECK(::read(ready_r.get(), &c, 1) == 0);
    CHECK(!bound());
    CHECK(wait_exit(h) == 0);

    // EOF on the socket before a message: it gives up quietly (in a user
    // namespace of its own, where its sandbox, built before, can be made).
    int again[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, again) == 0);
    Fd w(again[0]), r(again[1]);
    Helper quiet;
    quiet.log = tmp_dir() + "/netns-sock-eof.log";
    quiet.pid = spawn({"unshare", "-Ur", bin("bock-netns"), "--netns-sock", "3"}, quiet.log, {r.get()});
    r.reset();
    w.reset();
    CHECK(wait_exit(quiet) == 0);
    // A pid without its namespace: refused, with what to send.
    REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, again) == 0);
    Fd w2(again[0]), r2(again[1]);
    Helper bare;
    bare.log = tmp_dir() + "/netns-sock-bare.log";
    bare.pid = spawn({"unshare", "-Ur", bin("bock-netns"), "--netns-sock", "3"}, bare.log, {r2.get()});
    r2.reset();
    REQUIRE(::send(w2.get(), "1\n", 2, MSG_NOSIGNAL) == 2);
    CHECK(wait_exit(bare) == 1);
    CHECK_THAT(bare.output(), Catch::Contains("no network namespace came with pid 1"));
}

TEST_CASE("bock-netns --netns-sock: a namespace sent as an fd is joined where the pid could not be opened", "[netns]") {
    // A container in a user namespace of its own runs as another id and is
    // not dumpable until it execs: then /proc/PID/ns/net cannot be opened
    // by the helper, only by whoever opened it before (bock, right after
    // the clone). Here: a process of our own made non-dumpable after we
    // opened its namespaces.
    require_tools();
    int up[2], go[2];
    REQUIRE(::pipe2(up, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(go, O_CLOEXEC) == 0);
    Fd up_r(up[0]), up_w(up[1]), go_r(go[0]), go_w(go[1]);
    const uid_t uid = ::getuid();
    const gid_t gid = ::getgid();
    pid_t p = ::fork();
    REQUIRE(p >= 0);
    if (p == 0) {
        // Single-threaded child: raw calls only, then wait to be killed.
        char c = 0;
        if (::unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) ::_exit(1);
        char map[64];
        auto put = [](const char* file, const char* text) {
            int fd = ::open(file, O_WRONLY);
            bool good = fd >= 0 && ::write(fd, text, std::strlen(text)) == static_cast<ssize_t>(std::strlen(text));
            if (fd >= 0) ::close(fd);
            return good;
        };
        if (!put("/proc/self/setgroups", "deny")) ::_exit(2);
        std::snprintf(map, sizeof map, "0 %u 1", uid);
        if (!put("/proc/self/uid_map", map)) ::_exit(3);
        std::snprintf(map, sizeof map, "0 %u 1", gid);
        if (!put("/proc/self/gid_map", map)) ::_exit(4);
        (void)::write(up[1], "u", 1);         // namespaces made: open them
        if (::read(go[0], &c, 1) != 1) ::_exit(5);
        ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);  // as a container before its exec
        (void)::write(up[1], "d", 1);
        for (;;) ::pause();
    }
    Pid target(p);
    up_w.reset();
    go_r.reset();
    char c = 0;
    REQUIRE(::read(up_r.get(), &c, 1) == 1);
    auto userns = sys::open(fmt::format("/proc/{}/ns/user", p), O_RDONLY);
    auto netns = sys::open(fmt::format("/proc/{}/ns/net", p), O_RDONLY);
    REQUIRE(userns);
    REQUIRE(netns);
    REQUIRE(::write(go_w.get(), "g", 1) == 1);
    REQUIRE(::read(up_r.get(), &c, 1) == 1);
    REQUIRE(c == 'd');
    // Negative control: now not even its own user may open it by pid.
    auto by_pid = sys::open(fmt::format("/proc/{}/ns/net", p), O_RDONLY);
    REQUIRE(!by_pid);
    CHECK(by_pid.error().code() == EACCES);

    // The helper in its user namespace (by our fd: /proc/PID/ns/user is
    // closed too). By pid (--netns-pid, the helper opening it): refused.
    auto start = [&](bool send_fd, const std::string& log) {
        int ready[2], sock[2];
        REQUIRE(::pipe2(ready, O_CLOEXEC) == 0);
        REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sock) == 0);
        Fd ready_r(ready[0]), ready_w(ready[1]), w(sock[0]), r(sock[1]);
        Helper h;
        h.log = log;
        std::vector<std::string> argv{"nsenter", "--user=/proc/self/fd/5", "--preserve-credentials", bin("bock-netns"),
                                      "--ready-fd", "3", "--dns-upstream", "127.0.0.1:9"};
        if (send_fd) argv.insert(argv.end(), {"--netns-sock", "4"});
        else argv.insert(argv.end(), {"--netns-pid", std::to_string(p)});
        h.pid = spawn(argv, log, {ready_w.get(), r.get(), userns->get()});
        ready_w.reset();
        r.reset();
        if (send_fd) {
            std::string text = std::to_string(p) + "\n";
            CHECK(sys::raw::send_with_fd(w.get(), text.data(), text.size(), netns->get()) ==
                  static_cast<ssize_t>(text.size()));
        }
        pollfd pf{ready_r.get(), POLLIN, 0};
        REQUIRE(::poll(&pf, 1, 10000) == 1);
        h.ready = ::read(ready_r.get(), &c, 1) == 1 && c == '1';
        return h;
    };
    auto refused = start(false, tmp_dir() + "/netns-sock-pid.log");
    INFO(refused.output());
    CHECK(!refused.ready);
    CHECK_THAT(refused.output(), Catch::Contains("permission denied"));
    CHECK(wait_exit(refused) == 1);

    // The namespace sent with the pid: joined, tap0 made inside; the
    // helper still watches the pid and stops when it exits.
    auto h = start(true, tmp_dir() + "/netns-sock-fd.log");
    INFO(h.output());
    REQUIRE(h.ready);
    auto link = run({"nsenter", fmt::format("--user=/proc/{}/fd/{}", ::getpid(), userns->get()),
                     fmt::format("--net=/proc/{}/fd/{}", ::getpid(), netns->get()), "--preserve-credentials", "ip",
                     "-4", "addr", "show", "tap0"});
    INFO(link.err);
    CHECK_THAT(link.out, Catch::Contains("10.0.2.100/24"));
    REQUIRE(target.kill(SIGKILL));
    (void)target.wait();
    CHECK(wait_exit(h) == 0);
}

TEST_CASE("the host's loopback is reached through 10.0.2.2 only when allowed", "[netns]") {
    require_tools();
    std::string www = tmp_dir() + "/host-www";
    REQUIRE(fs::mkdir_p(www));
    REQUIRE(fs::write_file(www + "/index.txt", "hello from the host\n"));
    uint16_t port = free_port();
    Pid server = spawn({"/bin/busybox", "httpd", "-f", "-p", fmt::format("127.0.0.1:{}", port), "-h", www},
                       tmp_dir() + "/host-httpd.log");
    REQUIRE(wait_until([port] { return !http_get(AF_INET, port, "/index.txt").empty(); }));
    auto url = fmt::format("http://10.0.2.2:{}/index.txt", port);
    {
        Namespace ns;
        auto h = start_helper(ns, {"--allow-host-loopback", "--dns-upstream", "127.0.0.1:9"});
        INFO(h.output());
        REQUIRE(h.ready);
        // Through libslirp (the redirect rule may not be in yet) or the
        // spliced fast path: the same answer.
        auto r = ns.exec({"timeout", "10", "/bin/busybox", "wget", "-q", "-O", "-", url});
        INFO(r.err);
        CHECK(r.out == "hello from the host\n");
        // The fast path: the redirect to the helper's listener is in place
        // shortly after ready (when nft is installed).
        if (::access("/usr/sbin/nft", X_OK) == 0) {
            CHECK(wait_until([&] {
                return ns.exec({"nft", "list", "table", "ip", "bock_netns"}).out.find("redirect to") !=
                       std::string::npos;
            }));
            r = ns.exec({"timeout", "10", "/bin/busybox", "wget", "-q", "-O", "-", url});
            CHECK(r.out == "hello from the host\n");
            // A closed host port is refused (reset) on this path too.
            auto closed = ns.exec({"timeout", "10", "/bin/busybox", "wget", "-q", "-O", "-",
                                   fmt::format("http://10.0.2.2:{}/", free_port())});
            CHECK(closed.code != 0);
        }
    }
    {
        Namespace ns;
        auto h = start_helper(ns, {"--dns-upstream", "127.0.0.1:9"});
        REQUIRE(h.ready);
        auto r = ns.exec({"timeout", "10", "/bin/busybox", "wget", "-q", "-O", "-", url});
        CHECK(r.code != 0);
        CHECK(r.out.empty());
    }
}

TEST_CASE("DNS through 10.0.2.3 goes to --dns-upstream", "[netns]") {
    require_tools();
    std::string script = tmp_dir() + "/resolver.py", port_file = tmp_dir() + "/resolver.port";
    REQUIRE(fs::write_file(script, kResolverScript));
    Pid resolver = spawn({"python3", script, port_file, "10.9.8.7"}, tmp_dir() + "/resolver.log");
    REQUIRE(wait_until([&] { return fs::exists(port_file); }));
    auto port = read_text(port_file);
    Namespace ns;
    auto h = start_helper(ns, {"--dns-upstream", "127.0.0.1:" + port});
    INFO(h.output());
    REQUIRE(h.ready);
    auto r = ns.exec({"timeout", "10", "/bin/busybox", "nslookup", "-type=a", "test.bock.example", "10.0.2.3"});
    INFO(r.out << r.err);
    CHECK(r.out.find("10.9.8.7") != std::string::npos);
    // libslirp's forwarding to the host's resolvers is off: fd00::3 (which
    // is not intercepted) does not answer, rather than asking the host's.
    auto v6 = ns.exec({"timeout", "4", "/bin/busybox", "nslookup", "-type=a", "test.bock.example", "fd00::3"});
    CHECK(v6.out.find("10.9.8.7") == std::string::npos);
    CHECK(v6.code != 0);
}

TEST_CASE("a published port keeps the client's loopback address, IPv4 and IPv6", "[netns]") {
    require_tools();
    Namespace ns;
    uint16_t p4 = free_port(), p6 = free_port(AF_INET6);
    auto h = start_helper(ns, {"--dns-upstream", "127.0.0.1:9", "--publish", fmt::format("127.0.0.1:{}:8080", p4),
                               "--publish", fmt::format("[::1]:{}:8080", p6)});
    INFO(h.output());
    REQUIRE(h.ready);
    Pid httpd4 = httpd_in(ns, "127.0.0.1:8080");
    Pid httpd6 = httpd_in(ns, "[::1]:8080");
    REQUIRE(wait_until([&] { return port_answers(AF_INET, p4) && port_answers(AF_INET6, p6); }));

    CHECK(http_get(AF_INET, p4, "/hello.txt").find("hello from the container") != std::string::npos);
    CHECK(http_get(AF_INET, p4, "/cgi-bin/addr", "127.0.0.5").find("remote=127.0.0.5\n") != std::string::npos);
    CHECK(http_get(AF_INET, p4, "/cgi-bin/addr", "127.0.0.1").find("remote=127.0.0.1\n") != std::string::npos);
    CHECK(http_get(AF_INET6, p6, "/cgi-bin/addr").find("remote=[::1]\n") != std::string::npos);
}

TEST_CASE("a published UDP port answers from the container", "[netns]") {
    require_tools();
    Namespace ns;
    uint16_t port = free_port(AF_INET, SOCK_DGRAM);
    auto h = start_helper(ns, {"--dns-upstream", "127.0.0.1:9", "--publish", fmt::format("127.0.0.1:{}:5353/udp", port)});
    INFO(h.output());
    REQUIRE(h.ready);
    std::string script = tmp_dir() + "/udpecho.py";
    REQUIRE(fs::write_file(script, kUdpEcho));
    Pid echo = ns.spawn_in({"python3", script, "5353"}, tmp_dir() + "/udpecho.log");

    Fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    auto src = loopback(AF_INET, 0, "127.0.0.7");
    REQUIRE(::bind(s.get(), reinterpret_cast<sockaddr*>(&src), sizeof(sockaddr_in)) == 0);
    auto dst = loopback(AF_INET, port);
    REQUIRE(::connect(s.get(), reinterpret_cast<sockaddr*>(&dst), sizeof(sockaddr_in)) == 0);
    std::string got;
    for (int i = 0; i < 50 && got.empty(); ++i) {  // until the echo server listens
        (void)::send(s.get(), "ping", 4, 0);
        pollfd p{s.get(), POLLIN, 0};
        if (::poll(&p, 1, 100) == 1) {
            char buf[256];
            ssize_t n = ::recv(s.get(), buf, sizeof buf, 0);
            if (n > 0) got.assign(buf, static_cast<size_t>(n));
        }
    }
    CHECK(got == "echo ping from 127.0.0.7");
}

TEST_CASE("a privileged port and a port in use are refused with their reasons", "[netns]") {
    require_tools();
    int start = std::stoi(read_text("/proc/sys/net/ipv4/ip_unprivileged_port_start"));
    {
        Namespace ns;
        if (start > 1) {
            auto h = start_helper(ns, {"--publish", fmt::format("127.0.0.1:{}:80", start - 1)});
            CHECK_FALSE(h.ready);
            CHECK(wait_exit(h) == 1);
            CHECK(h.output().find(fmt::format("port {} is privileged: net.ipv4.ip_unprivileged_port_start is {}",
                                              start - 1, start)) != std::string::npos);
        } else {
            WARN("net.ipv4.ip_unprivileged_port_start is " << start << ": no privileged port to try");
        }
    }
    {
        Namespace ns;
        uint16_t port = free_port();
        Fd taken(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        auto a = loopback(AF_INET, port);
        REQUIRE(::bind(taken.get(), reinterpret_cast<sockaddr*>(&a), sizeof(sockaddr_in)) == 0);
        REQUIRE(::listen(taken.get(), 1) == 0);
        auto h = start_helper(ns, {"--publish", fmt::format("127.0.0.1:{}:80", port)});
        CHECK_FALSE(h.ready);
        CHECK(wait_exit(h) == 1);
        CHECK(h.output().find(fmt::format("port {} is already in use", port)) != std::string::npos);
    }
}

TEST_CASE("the JSON API adds, lists and removes published ports", "[netns]") {
    require_tools();
    Namespace ns;
    std::string sock = tmp_dir() + "/netns-api.sock";
    auto h = start_helper(ns, {"--dns-upstream", "127.0.0.1:9", "--api-socket", sock});
    INFO(h.output());
    REQUIRE(h.ready);
    Pid httpd = httpd_in(ns, "127.0.0.1:8080");
    uint16_t port = free_port();

    auto added = nlohmann::json::parse(api_call(
        sock, fmt::format(R"({{"op":"add","proto":"tcp","host_ip":"127.0.0.1","host_port":{},"container_port":8080}})",
                          port)));
    INFO(added.dump());
    REQUIRE(added["ok"] == true);
    int id = added["id"];
    REQUIRE(wait_until([&] { return port_answers(AF_INET, port); }));

    auto listed = nlohmann::json::parse(api_call(sock, R"({"op":"list"})"));
    REQUIRE(listed["forwards"].size() == 1);
    CHECK(listed["forwards"][0]["host_port"] == port);
    CHECK(listed["forwards"][0]["container_port"] == 8080);

    auto again = nlohmann::json::parse(api_call(sock, fmt::format(R"({{"op":"add","spec":"127.0.0.1:{}:80"}})", port)));
    CHECK(again["ok"] == false);
    CHECK(again["error"].get<std::string>().find("already in use") != std::string::npos);

    CHECK(nlohmann::json::parse(api_call(sock, fmt::format(R"({{"op":"remove","id":{}}})", id)))["ok"] == true);
    CHECK(wait_until([&] { return !port_answers(AF_INET, port); }));
    CHECK(nlohmann::json::parse(api_call(sock, R"({"op":"list"})"))["forwards"].empty());
    CHECK(nlohmann::json::parse(api_call(sock, R"({"op":"nonsense"})"))["ok"] == false);
}

TEST_CASE("a flood of connections to one published port does not stop a second one", "[netns]") {
    require_tools();
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
    Namespace ns;
    uint16_t flooded = free_port(), quiet = free_port();
    auto h = start_helper(ns, {"--dns-upstream", "127.0.0.1:9", "--publish", fmt::format("127.0.0.1:{}:9000", flooded),
                               "--publish", fmt::format("127.0.0.1:{}:8080", quiet)});
    INFO(h.output());
    REQUIRE(h.ready);
    Pid httpd = httpd_in(ns, "127.0.0.1:8080");
    REQUIRE(wait_until([&] { return port_answers(AF_INET, quiet); }));
    // Nothing listens on 9000 inside: every flooded connection is accepted
    // on the host, tried inside, refused, closed. 10,000 of them, plus
    // 500 held open at once.
    std::atomic<bool> done{false};
    std::atomic<int> connected{0};
    std::thread flood([&] {
        std::vector<Fd> held;
        for (int i = 0; i < 10000; ++i) {
            Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
            auto dst = loopback(AF_INET, flooded);
            if (::connect(s.get(), reinterpret_cast<sockaddr*>(&dst), sizeof(sockaddr_in)) == 0) ++connected;
            if (held.size() < 500) held.push_back(std::move(s));
        }
        done = true;
    });
    int answered = 0, asked = 0;
    auto t0 = std::chrono::steady_clock::now();
    while (!done || asked < 20) {
        ++asked;
        if (http_get(AF_INET, quiet, "/hello.txt").find("hello from the container") != std::string::npos) ++answered;
        if (std::chrono::steady_clock::now() - t0 > std::chrono::seconds(60)) break;
    }
    flood.join();
    CHECK(connected > 9000);
    CHECK(answered == asked);
    CHECK(wait_exit(h, 100) == -1);  // still running
    CHECK(port_answers(AF_INET, quiet));
}
