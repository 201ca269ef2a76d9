// bock-oci exec, terminals (--console-socket) and --preserve-fds, shared by
// the root and rootless suites (header-only, like oci_lifecycle.hpp).
//
// A container runs `sleep` under a trapping shell; exec'd processes must
// be in all of its namespaces (compared by the inode of /proc/PID/ns/*),
// see the container's root and no host fd. The console-socket receiver is
// the test itself: it listens on a unix socket, takes the pty master with
// SCM_RIGHTS, types a command into it and reads the answer back.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>

#include "bock/common/fd.hpp"
#include "bock/common/sys.hpp"
#include "oci_lifecycle.hpp"

namespace bock::test::exec {

using lifecycle::Oci;
using bock::Fd;

// A busybox bundle (lifecycle's marker bundle) with the applets exec needs.
inline std::string exec_bundle(const std::string& name) {
    std::string b = lifecycle::marker_bundle(name);
    for (const char* a : {"readlink", "pwd", "tty", "stty", "env", "kill", "grep"})
        REQUIRE(::symlink("busybox", (b + "/rootfs/bin/" + a).c_str()) == 0);
    return b;
}

inline std::string host_ns(int pid, const char* ns) {
    char buf[128] = {};
    std::string path = fmt::format("/proc/{}/ns/{}", pid, ns);
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "unreadable " + path;
}

// A listening unix socket in the test's tmp dir: the --console-socket.
class ConsoleReceiver {
public:
    explicit ConsoleReceiver(const std::string& name) : path_(tmp_dir() + "/" + name + ".sock") {
        listen_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        REQUIRE(listen_.valid());
        struct sockaddr_un addr = {};
        addr.sun_family = AF_UNIX;
        REQUIRE(path_.size() < sizeof addr.sun_path);
        std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
        REQUIRE(::bind(listen_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(::listen(listen_.get(), 4) == 0);
    }
    const std::string& path() const { return path_; }

    // Accepts the runtime's connection and returns the fd it sent (the pty
    // master), and its name; waits 10 s at most.
    Fd receive(std::string& name) {
        struct pollfd pfd = {listen_.get(), POLLIN, 0};
        REQUIRE(::poll(&pfd, 1, 10000) == 1);
        Fd conn(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        REQUIRE(conn.valid());
        struct pollfd cfd = {conn.get(), POLLIN, 0};
        REQUIRE(::poll(&cfd, 1, 10000) == 1);
        char data[256] = {};
        int fd = -1;
        ssize_t n = sys::raw::recv_with_fd(conn.get(), data, sizeof data - 1, &fd);
        REQUIRE(n > 0);
        name.assign(data, static_cast<size_t>(n));
        REQUIRE(fd >= 0);  // the pty master came as SCM_RIGHTS
        return Fd(fd);
    }

private:
    std::string path_;
    Fd listen_;
};

// Reads from a pty master until `until` appears, EOF/EIO, or 10 s pass.
inline std::string read_pty(int master, const std::string& until) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline && out.find(until) == std::string::npos) {
        struct pollfd p = {master, POLLIN, 0};
        if (::poll(&p, 1, 200) <= 0) continue;
        char buf[512];
        ssize_t n = ::read(master, buf, sizeof buf);
        if (n <= 0) break;  // EIO: the last peer closed
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

inline std::vector<std::string> fields(const std::string& line) {
    std::vector<std::string> out;
    std::string cur;
    for (char ch : line) {
        if (ch == ' ' || ch == '\t') {
            if (!cur.empty()) out.push_back(cur);
            cur.clear();
        } else {
            cur += ch;
        }
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
}

// exec joins every namespace; exit codes; env, cwd, user; no host fds or
// cwd; --process; a stopped container is refused.
inline void check_exec(const std::string& p) {
    Oci oci(p);
    std::string b = exec_bundle(p + "exec");
    std::string id = oci.id("exec");
    REQUIRE(oci.call({"run", "-d", "--bundle", b, id}).code == 0);
    REQUIRE(lifecycle::wait_file(b + "/rootfs/tmp/marker"));
    int init = oci.state(id)["pid"];

    for (const char* ns : {"pid", "mnt", "net", "uts", "ipc", "cgroup", "user"}) {
        Run r = oci.call({"exec", id, "readlink", std::string("/proc/self/ns/") + ns});
        CHECK(r.code == 0);
        CHECK(r.out == host_ns(init, ns) + "\n");
    }
    // In the container's pid namespace (its /proc shows only that one):
    // NSpid is a single pid, not 1, and pid 1 is the container's shell.
    Run status = oci.call({"exec", id, "cat", "/proc/self/status"});
    CHECK(status.code == 0);
    std::vector<std::string> nspid;
    for (const auto& l : lines(status.out))
        if (l.rfind("NSpid:", 0) == 0) nspid = fields(l.substr(6));
    REQUIRE(nspid.size() == 1);
    CHECK(std::stoi(nspid[0]) > 1);
    Run one = oci.call({"exec", id, "cat", "/proc/1/cmdline"});
    CHECK_THAT(one.out, Catch::Contains("echo started > /tmp/marker"));

    CHECK(oci.call({"exec", id, "sh", "-c", "exit 5"}).code == 5);
    Run missing = oci.call({"exec", id, "no-such-command"});
    CHECK(missing.code == 127);
    CHECK_THAT(missing.err, Catch::Contains("no-such-command") && Catch::Contains("not found"));

    // Flags overlay config.json's process (PATH from it, TERM replaced).
    std::string user = is_root() ? "1234:5678" : "0:0";
    Run flags = oci.call({"exec", "-e", "FOO=bar", "-e", "TERM=dumb", "--cwd", "/tmp", "-u", user, id, "sh", "-c",
                          "echo $FOO $TERM; pwd; id -u; id -g; echo $PATH"});
    CHECK(flags.code == 0);
    std::string uid = is_root() ? "1234" : "0", gid = is_root() ? "5678" : "0";
    CHECK(flags.out == "bar dumb\n/tmp\n" + uid + "\n" + gid +
                           "\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n");
    // No fd or working directory of the caller reaches the process.
    Run fds = oci.call({"exec", id, "ls", "/proc/self/fd"});
    CHECK(fds.code == 0);
    CHECK(lines(fds.out) == std::vector<std::string>{"0", "1", "2", "3"});  // 3: ls's own directory
    Run cwd = oci.call({"exec", id, "readlink", "/proc/self/cwd"});
    CHECK(cwd.out == "/\n");
    // Capabilities: config.json's sets (runc's default list), -c adds one.
    Run caps = oci.call({"exec", id, "grep", "CapEff", "/proc/self/status"});
    CHECK_THAT(caps.out, Catch::Contains("00000000a80425fb"));
    Run more = oci.call({"exec", "-c", "CAP_NET_ADMIN", id, "grep", "CapEff", "/proc/self/status"});
    CHECK_THAT(more.out, Catch::Contains("00000000a80435fb"));

    std::string proc_file = tmp_dir() + "/" + p + "process.json";
    REQUIRE(fs::write_file(proc_file, R"({"args": ["sh", "-c", "echo $X; pwd"], "env": ["X=fromjson"],
        "cwd": "/etc", "user": {"uid": 0, "gid": 0}})"));
    Run pj = oci.call({"exec", "--process", proc_file, id});
    CHECK(pj.code == 0);
    CHECK(pj.out == "fromjson\n/etc\n");
    Run both = oci.call({"exec", "--process", proc_file, id, "true"});
    CHECK(both.code != 0);
    CHECK_THAT(both.err, Catch::Contains("not both"));

    // Detached, with a pid file: the process keeps running after exec returns.
    std::string pid_file = tmp_dir() + "/" + p + "exec.pid";
    Run det = oci.call({"exec", "--detach", "--pid-file", pid_file, id, "sleep", "300"});
    REQUIRE(det.code == 0);
    auto pid_text = fs::read_file(pid_file);
    REQUIRE(pid_text);
    int pid = std::stoi(*pid_text);
    CHECK(pid > 0);
    CHECK(host_ns(pid, "pid") == host_ns(init, "pid"));
    CHECK(fs::read_file(fmt::format("/proc/{}/cmdline", pid)).value_or("") == std::string("sleep\0" "300\0", 10));
    CHECK(::kill(pid, SIGKILL) == 0);

    // Foreground: SIGTERM to bock-oci reaches the process, whose exit code
    // comes back (the shell waits 10 s at most for it to be ready).
    std::string ready = b + "/rootfs/tmp/exec-ready";
    Run fwd = run({"timeout", "30", "sh", "-c",
                   "\"$@\" </dev/null >/dev/null 2>&1 & p=$!; i=0; while [ ! -e \"$R\" ] && [ $i -lt 100 ]; do "
                   "sleep 0.1; i=$((i+1)); done; kill -TERM $p; wait $p",
                   "sh", bin("bock-oci"), "--root", oci.root(), "exec", id, "sh", "-c",
                   "trap 'exit 7' TERM; touch /tmp/exec-ready; sleep 100 & wait"},
                  std::nullopt, {"R=" + ready});
    CHECK(fwd.code == 7);

    CHECK(oci.call({"kill", id, "KILL"}).code == 0);
    CHECK(oci.wait_status(id, "stopped"));
    Run stopped = oci.call({"exec", id, "true"});
    CHECK(stopped.code != 0);
    CHECK_THAT(stopped.err, Catch::Contains("is not running"));
}

// process.terminal with --console-socket: create/start and exec -t get a
// pty of the container's devpts, sized from process.consoleSize.
inline void check_terminal(const std::string& p) {
    Oci oci(p);
    std::string b = exec_bundle(p + "tty");
    auto cfg = nlohmann::json::parse(fs::read_file(b + "/config.json").value_or("{}"));
    cfg["process"]["terminal"] = true;
    cfg["process"]["consoleSize"] = {{"height", 33}, {"width", 111}};
    cfg["process"]["args"] = {"sh"};
    REQUIRE(fs::write_file(b + "/config.json", cfg.dump()));
    std::string id = oci.id("tty");

    // Without a socket: a clear error, nothing left behind.
    Run nosock = oci.call({"create", "--bundle", b, id});
    CHECK(nosock.code == 1);
    CHECK_THAT(nosock.err, Catch::Contains("needs --console-socket"));
    CHECK(oci.call({"state", id}).code == 1);

    ConsoleReceiver console(p + "console");
    REQUIRE(oci.call({"create", "--console-socket", console.path(), "--bundle", b, id}).code == 0);
    std::string name;
    Fd master = console.receive(name);
    CHECK_THAT(name, Catch::Contains("ptmx"));
    REQUIRE(oci.call({"start", id}).code == 0);
    std::string cmd = "tty; stty size; echo done-$((6*7))\n";
    REQUIRE(::write(master.get(), cmd.data(), cmd.size()) == static_cast<ssize_t>(cmd.size()));
    std::string out = read_pty(master.get(), "done-42");
    CHECK_THAT(out, Catch::Contains("/dev/pts/0"));
    CHECK_THAT(out, Catch::Contains("33 111"));
    CHECK_THAT(out, Catch::Contains("done-42"));

    // exec -t: a second pty of the same devpts; --process gives its size.
    ConsoleReceiver econsole(p + "econsole");
    std::string proc_file = tmp_dir() + "/" + p + "tty-process.json";
    REQUIRE(fs::write_file(proc_file, R"({"terminal": true, "consoleSize": {"height": 20, "width": 70},
        "args": ["sh"], "env": ["PATH=/bin"], "cwd": "/"})"));
    REQUIRE(oci.call({"exec", "-d", "--console-socket", econsole.path(), "--process", proc_file, id}).code == 0);
    Fd emaster = econsole.receive(name);
    REQUIRE(::write(emaster.get(), cmd.data(), cmd.size()) == static_cast<ssize_t>(cmd.size()));
    std::string eout = read_pty(emaster.get(), "done-42");
    CHECK_THAT(eout, Catch::Contains("/dev/pts/1"));
    CHECK_THAT(eout, Catch::Contains("20 70"));
    CHECK_THAT(eout, Catch::Contains("done-42"));
    std::string bye = "exit\n";
    (void)::write(emaster.get(), bye.data(), bye.size());

    // exec -t with runc's flags (the size is left as the pty's default).
    ConsoleReceiver tconsole(p + "tconsole");
    REQUIRE(oci.call({"exec", "-t", "-d", "--console-socket", tconsole.path(), id, "sh", "-c",
                      "tty; echo flags-$((2*3))"})
                .code == 0);
    Fd tmaster = tconsole.receive(name);
    std::string tout = read_pty(tmaster.get(), "flags-6");
    CHECK_THAT(tout, Catch::Contains("/dev/pts/"));
    CHECK_THAT(tout, Catch::Contains("flags-6"));

    // exec -t without a socket: bock-oci proxies the pty to its own stdio
    // (as runc); the process's exit code comes back.
    Run etty = oci.call({"exec", "-t", id, "sh", "-c", "tty; echo proxied-$((3*3)); exit 3"});
    CHECK(etty.code == 3);
    CHECK_THAT(etty.out, Catch::Contains("/dev/pts/") && Catch::Contains("proxied-9"));
    // Detached, there is no one to proxy to: refused, naming the fix.
    Run dtty = oci.call({"exec", "-t", "-d", id, "sh"});
    CHECK(dtty.code != 0);
    CHECK_THAT(dtty.err, Catch::Contains("needs --console-socket"));
    // A socket without a terminal too.
    Run notty = oci.call({"exec", "--console-socket", econsole.path(), id, "true"});
    CHECK(notty.code != 0);
    CHECK_THAT(notty.err, Catch::Contains("process.terminal is false"));
    (void)::write(master.get(), bye.data(), bye.size());
    CHECK(oci.wait_status(id, "stopped"));
}

// --preserve-fds N: the caller's fd 3 reaches the container process (run
// and exec); without the flag it does not.
inline void check_preserve_fds(const std::string& p) {
    Oci oci(p);
    std::string b = exec_bundle(p + "fds");
    std::string id = oci.id("fds");
    REQUIRE(oci.call({"run", "-d", "--bundle", b, id}).code == 0);
    REQUIRE(lifecycle::wait_file(b + "/rootfs/tmp/marker"));
    std::string out = tmp_dir() + "/" + p + "fd3.txt";
    auto with_fd3 = [&](const std::vector<std::string>& args) {
        std::vector<std::string> argv{"sh", "-c", "exec 3>>\"$F\"; exec \"$@\" </dev/null", "sh", bin("bock-oci"),
                                      "--root", oci.root()};
        argv.insert(argv.end(), args.begin(), args.end());
        Run r = run(argv, std::nullopt, {"F=" + out});
        UNSCOPED_INFO(fmt::format("{}", fmt::join(args, " ")) << " -> " << r.code << ": " << r.err);
        return r;
    };
    CHECK(with_fd3({"exec", "--preserve-fds", "1", id, "sh", "-c", "echo exec-kept >&3"}).code == 0);
    CHECK(with_fd3({"exec", id, "sh", "-c", "echo leaked >&3"}).code != 0);
    Run bad = with_fd3({"exec", "--preserve-fds", "3", id, "true"});
    CHECK(bad.code != 0);
    CHECK_THAT(bad.err, Catch::Contains("--preserve-fds 3: fd 4"));

    auto cfg = nlohmann::json::parse(fs::read_file(b + "/config.json").value_or("{}"));
    cfg["process"]["args"] = {"sh", "-c", "echo run-kept >&3"};
    REQUIRE(fs::write_file(b + "/config.json", cfg.dump()));
    CHECK(with_fd3({"run", "--preserve-fds", "1", "--bundle", b, oci.id("fdrun")}).code == 0);
    CHECK(fs::read_file(out).value_or("") == "exec-kept\nrun-kept\n");
}

}  // namespace bock::test::exec
