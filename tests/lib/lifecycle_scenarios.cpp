// Detached containers under bock-monitor, end to end, shared by the
// rootless and root suites (lifecycle_scenarios.hpp, docs/monitor.md).
#include "lifecycle_scenarios.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "bock/common/subprocess.hpp"
#include "testlib.hpp"

namespace bock::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string store() { return env_or("BOCK_ROOT", ""); }
std::string run_root() { return env_or("BOCK_RUNROOT", ""); }

std::string mount_table() { return session_mount_table(); }

// Processes whose command line names this test's run root (monitors, and
// cleanups exec'd from them, carry `--dir RUNROOT/...`).
std::vector<pid_t> monitors() {
    std::vector<pid_t> out;
    DIR* d = ::opendir("/proc");
    if (!d) return out;
    while (auto* e = ::readdir(d)) {
        pid_t pid = std::atoi(e->d_name);
        if (pid <= 0) continue;
        auto cmd = fs::read_file(fmt::format("/proc/{}/cmdline", pid));
        if (!cmd) continue;
        if (cmd->find("bock-monitor") != std::string::npos && cmd->find(run_root() + "/containers/") != std::string::npos)
            out.push_back(pid);
    }
    ::closedir(d);
    return out;
}

// bock-netns helpers serving this test's containers (their API socket is
// under the run root), zombies left out: they hold nothing.
std::vector<pid_t> netns_helpers() {
    std::vector<pid_t> out;
    DIR* d = ::opendir("/proc");
    if (!d) return out;
    while (auto* e = ::readdir(d)) {
        pid_t pid = std::atoi(e->d_name);
        if (pid <= 0) continue;
        auto stat = fs::read_file(fmt::format("/proc/{}/stat", pid)).value_or("");
        auto close = stat.rfind(')');
        if (close == std::string::npos || stat.find("(bock-netns)") == std::string::npos ||
            stat.compare(close + 2, 1, "Z") == 0)
            continue;
        auto cmd = fs::read_file(fmt::format("/proc/{}/cmdline", pid)).value_or("");
        if (cmd.find(run_root() + "/containers/") != std::string::npos) out.push_back(pid);
    }
    ::closedir(d);
    return out;
}

nlohmann::json ps_all() {
    auto r = cli({"ps", "-a", "--format", "json"});
    REQUIRE(r.code == 0);
    return nlohmann::json::parse(r.out);
}

nlohmann::json ps_of(const std::string& id) {
    for (const auto& c : ps_all())
        if (c["Id"] == id) return c;
    return nlohmann::json();
}

// Polls until `pred` holds (true) or the time is up (false).
template <class F>
bool eventually(F pred, std::chrono::milliseconds limit = 10s) {
    auto end = Clock::now() + limit;
    while (Clock::now() < end) {
        if (pred()) return true;
        std::this_thread::sleep_for(50ms);
    }
    return pred();
}

pid_t container_pid(const std::string& id) {
    auto text = fs::read_file(run_root() + "/containers/" + id + "/pid");
    REQUIRE(text);
    return std::stoi(*text);
}

// Nothing left of any container: no record, writable layer, run
// directory, lease, mount or monitor.
void check_clean_store() {
    CHECK(lines(cli({"ps", "-a", "-q"}).out).empty());
    CHECK(dir_entries(store() + "/containers").empty());
    CHECK(dir_entries(run_root() + "/containers").empty());
    CHECK(dir_entries(store() + "/leases").empty());
    CHECK_THAT(mount_table(), !Catch::Contains(run_root() + "/containers/"));
    CHECK(eventually([] { return monitors().empty(); }, 3s));
    // Rootless the containers have the default network: no helper left either.
    CHECK(eventually([] { return netns_helpers().empty(); }, 3s));
}

void ensure_default_image() { REQUIRE(cli({"run", "--rm", "busybox", "true"}).code == 0); }

}  // namespace

std::string run_detached(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"run", "-d"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = cli(argv);
    INFO(r.err);
    REQUIRE(r.code == 0);
    auto l = lines(r.out);
    REQUIRE(l.size() == 1);
    REQUIRE(l[0].size() == 64);
    return l[0];
}

void check_detached_logs() {
    ensure_default_image();
    std::string id = run_detached({"--name", "ticker", "busybox", "sh", "-c",
                                   "echo start; echo oops >&2; i=0; while true; do echo tick$i; i=$((i+1)); sleep 0.1; done"});
    auto c = ps_of(id);
    CHECK(c["State"] == "running");
    CHECK_THAT(c["Status"].get<std::string>(), Catch::StartsWith("Up"));
    CHECK(c["Names"][0] == "ticker");
    CHECK(monitors().size() == 1);
    // The monitor survived the bock that started it and is the container's parent.
    auto stat = fs::read_file(fmt::format("/proc/{}/stat", container_pid(id)));
    REQUIRE(stat);
    int ppid = 0;
    std::sscanf(stat->c_str() + stat->rfind(')') + 2, "%*c %d", &ppid);
    CHECK(ppid == monitors().at(0));

    // A second name is refused.
    auto dup = cli({"run", "-d", "--name", "ticker", "busybox", "true"});
    CHECK(dup.code == 125);
    CHECK_THAT(dup.err, Catch::Contains("already in use"));

    // logs -f follows: new lines arrive while it runs.
    SpawnOptions o;
    o.argv = {bin("bock"), "logs", "-f", "ticker"};
    std::string out_file = tmp_dir() + "/follow.out";
    o.argv = {"/bin/sh", "-c", bin("bock") + " logs -f ticker > " + out_file + " 2>&1"};
    auto follower = spawn_program(o);
    REQUIRE(follower);
    CHECK(eventually([&] {
        auto t = fs::read_file(out_file);
        return t && t->find("tick12") != std::string::npos;
    }));
    auto logs = cli({"logs", "ticker"});
    CHECK(logs.code == 0);
    CHECK_THAT(logs.out, Catch::StartsWith("start\ntick0\n"));
    CHECK_THAT(logs.err, Catch::Contains("oops"));
    auto tail = lines(cli({"logs", "--tail", "2", "ticker"}).out);
    CHECK(tail.size() == 2);
    auto stamped = lines(cli({"logs", "-t", "--tail", "1", "ticker"}).out);
    REQUIRE(stamped.size() == 1);
    CHECK_THAT(stamped[0], Catch::Matches("20[0-9-]+T[0-9:.]+Z tick[0-9]+"));
    CHECK(lines(cli({"logs", "--since", "2099-01-01T00:00:00Z", "ticker"}).out).empty());
    CHECK(lines(cli({"logs", "--until", "1m", "ticker"}).out).empty());

    // exec into the detached server: its namespaces (it sees PID 1, the
    // ticking shell), its environment, the exit code; inspect names the pid.
    auto ex = cli({"exec", "-e", "PROBE=yes", "ticker", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; echo $PROBE; exit 4"});
    INFO(ex.err);
    CHECK(ex.code == 4);
    CHECK_THAT(ex.out, Catch::StartsWith("sh -c echo start;") && Catch::EndsWith("\nyes\n"));
    auto pid = cli({"inspect", "--format", "{{.State.Pid}}", "ticker"});
    CHECK(pid.out == std::to_string(container_pid(id)) + "\n");

    // The log file is JSON lines.
    auto raw = fs::read_file(store() + "/containers/" + id + "/ctr.log");
    REQUIRE(raw);
    auto first = nlohmann::json::parse(raw->substr(0, raw->find('\n')));
    CHECK(first["log"] == "start\n");
    CHECK(first["stream"] == "stdout");
    CHECK(first.contains("time"));

    // stop: a shell PID 1 without a TERM trap gets SIGKILL at once; logs -f ends.
    auto t0 = Clock::now();
    CHECK(cli({"stop", "ticker"}).code == 0);
    CHECK(Clock::now() - t0 < 2s);
    auto st = follower->wait();
    REQUIRE(st);
    CHECK(WEXITSTATUS(*st) == 0);
    c = ps_of(id);
    CHECK(c["State"] == "exited");
    CHECK(c["ExitCode"] == 137);
    CHECK_THAT(c["Status"].get<std::string>(), Catch::StartsWith("Exited (137)"));
    CHECK(eventually([] { return monitors().empty(); }, 3s));
    CHECK_THAT(mount_table(), !Catch::Contains(run_root() + "/containers/" + id));
    CHECK_THAT(cli({"logs", "ticker"}).out, Catch::Contains("tick3"));  // logs outlive the container

    // start again: a new monitor, the log goes on.
    CHECK(cli({"start", "ticker"}).code == 0);
    CHECK(ps_of(id)["State"] == "running");
    CHECK(cli({"rm", "-f", "ticker"}).code == 0);
    check_clean_store();
}

void check_create_start_wait_stdin() {
    ensure_default_image();
    // create: set up, not running; start releases it; wait gives its code.
    auto r = cli({"create", "--name", "later", "busybox", "sh", "-c", "echo ran; exit 3"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    std::string id = lines(r.out).at(0);
    auto c = ps_of(id);
    CHECK(c["State"] == "created");
    CHECK(c["Status"] == "Created");
    CHECK(cli({"start", "later"}).code == 0);
    auto w = cli({"wait", "later"});
    CHECK(w.code == 0);
    CHECK(lines(w.out) == std::vector<std::string>{"3"});
    CHECK(eventually([&] { return ps_of(id)["ExitCode"] == 3; }));
    CHECK(cli({"logs", "later"}).out == "ran\n");

    // run -i: stdin reaches the container, EOF closes it.
    auto cat = run({bin("bock"), "run", "-i", "--rm", "busybox", "sh", "-c", "cat; echo done"}, std::string("hello\n"));
    CHECK(cat.code == 0);
    CHECK(cat.out == "hello\ndone\n");
    // run --cidfile; an exit code through the monitor path (-i).
    std::string cid = tmp_dir() + "/cid";
    std::string id2 = run_detached({"--cidfile", cid, "busybox", "sleep", "1000"});
    CHECK(fs::read_file(cid).value_or("") == id2);
    CHECK(run({bin("bock"), "run", "-i", "--rm", "busybox", "sh", "-c", "exit 42"}, std::string()).code == 42);
    CHECK(cli({"rm", "-f", "later", id2}).code == 0);
    check_clean_store();
}

void check_terminal() {
    auto tmux = find_program("tmux");
    if (!tmux) skip("tmux is not installed");
    ensure_default_image();
    std::string sock = tmp_dir() + "/tmux.sock";
    auto t = [&](std::vector<std::string> args) {
        std::vector<std::string> argv = {*tmux, "-S", sock};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv);
    };
    auto screen = [&] { return t({"capture-pane", "-p", "-t", "w"}).out; };
    std::string env = fmt::format("BOCK_ROOT={} BOCK_RUNROOT={} ", store(), run_root());
    REQUIRE(t({"new-session", "-d", "-s", "w", "-x", "80", "-y", "24",
               env + bin("bock") + " run -it --name term busybox sh; echo bock-exited-$?; sleep 1000"})
                .code == 0);
    CHECK(eventually([&] { return !lines(cli({"ps", "-q"}).out).empty(); }));
    t({"send-keys", "-t", "w", "stty size; tty", "Enter"});
    CHECK(eventually([&] { return screen().find("24 80") != std::string::npos; }));
    CHECK_THAT(screen(), Catch::Contains("/dev/pts/"));
    // Resize: SIGWINCH in bock, TIOCSWINSZ in the monitor.
    t({"resize-window", "-t", "w", "-x", "100", "-y", "30"});
    std::this_thread::sleep_for(300ms);
    t({"send-keys", "-t", "w", "clear; stty size", "Enter"});
    CHECK(eventually([&] { return screen().find("30 100") != std::string::npos; }));
    // Detach with ctrl-p ctrl-q: bock exits 0, the container runs on.
    t({"send-keys", "-t", "w", "C-p", "C-q"});
    CHECK(eventually([&] { return screen().find("bock-exited-0") != std::string::npos; }));
    auto ps = ps_all();
    REQUIRE(ps.size() == 1);
    CHECK(ps[0]["State"] == "running");
    // attach again; the shell answers; exit ends attach with its code.
    REQUIRE(t({"new-window", "-t", "w", env + bin("bock") + " attach term; echo attach-exited-$?; sleep 1000"}).code == 0);
    std::this_thread::sleep_for(500ms);
    t({"send-keys", "-t", "w", "echo again-$((40+2))", "Enter"});
    CHECK(eventually([&] { return screen().find("again-42") != std::string::npos; }));
    t({"send-keys", "-t", "w", "exit 5", "Enter"});
    CHECK(eventually([&] { return screen().find("attach-exited-5") != std::string::npos; }));
    t({"kill-server"});
    CHECK(eventually([&] { return ps_all()[0]["State"] == "exited"; }));
    CHECK(ps_all()[0]["ExitCode"] == 5);
    CHECK(cli({"rm", "term"}).code == 0);
    check_clean_store();
}

void check_terminal_eof() {
    auto script = find_program("script");
    if (!script) skip("script (util-linux) is not installed");
    ensure_default_image();
    std::string env = fmt::format("BOCK_ROOT={} BOCK_RUNROOT={} ", store(), run_root());
    int hung = 0;
    for (int i = 0; i < 10; i++) {
        // script gives bock a terminal; its own stdin is at EOF, which it
        // passes on as the terminal's EOF character.
        auto r = run({"timeout", "20", *script, "-qec",
                      env + bin("bock") + " run -it --rm --network none busybox sh", "/dev/null"},
                     std::string());
        INFO("run " << i << ": " << r.out << r.err);
        if (r.code == 124) hung++;
        CHECK(r.code != 124);
    }
    CHECK(hung == 0);
    CHECK(eventually([&] { return cli({"ps", "-a", "-q"}).out.empty(); }));
    check_clean_store();
}

void check_restart_policies() {
    ensure_default_image();
    // on-failure:3: exactly three restarts, with backoff (100+200+400 ms).
    auto t0 = Clock::now();
    std::string id = run_detached({"--restart", "on-failure:3", "busybox", "sh", "-c", "echo run; exit 3"});
    // The count is recorded before each backoff: wait for the fourth run.
    CHECK(eventually([&] { return lines(cli({"logs", id}).out).size() == 4; }, 15s));
    auto took = Clock::now() - t0;
    CHECK(took >= 700ms);
    std::this_thread::sleep_for(1s);  // and no fourth
    auto c = ps_of(id);
    CHECK(c["RestartCount"] == 3);
    CHECK(c["ExitCode"] == 3);
    CHECK(lines(cli({"logs", id}).out).size() == 4);
    CHECK(cli({"rm", id}).code == 0);

    // always: restarted after kill, not after stop.
    std::string a = run_detached({"--restart", "always", "busybox", "sleep", "1000"});
    pid_t first = container_pid(a);
    CHECK(cli({"kill", a}).code == 0);
    CHECK(eventually([&] {
        auto x = ps_of(a);
        return x["RestartCount"] == 1 && x["State"] == "running";
    }));
    CHECK(container_pid(a) != first);
    CHECK(cli({"stop", a}).code == 0);
    std::this_thread::sleep_for(1s);
    c = ps_of(a);
    CHECK(c["State"] == "exited");
    CHECK(c["RestartCount"] == 1);
    // system restart brings back `always` after a "reboot" (monitor gone).
    auto sr = cli({"system", "restart"});
    CHECK(sr.code == 0);
    CHECK_THAT(sr.out, Catch::Contains(a));
    CHECK(ps_of(a)["State"] == "running");
    CHECK(cli({"rm", "-f", a}).code == 0);
    check_clean_store();
}

void check_rm_and_stop() {
    ensure_default_image();
    // --rm: gone once it exits, everything with it.
    std::string id = run_detached({"--rm", "busybox", "sh", "-c", "sleep 0.3"});
    CHECK(eventually([&] { return ps_of(id).is_null(); }));
    check_clean_store();

    // stop of a sleep PID 1: SIGKILL at once (it does not catch SIGTERM).
    std::string s = run_detached({"busybox", "sleep", "1000"});
    auto t0 = Clock::now();
    CHECK(cli({"stop", s}).code == 0);
    auto took = Clock::now() - t0;
    CHECK(took < 500ms);
    CHECK(ps_of(s)["ExitCode"] == 137);

    // A shell with a TERM trap: its handler runs, its code is recorded.
    std::string h = run_detached({"busybox", "sh", "-c",
                                  "trap 'echo handled; exit 7' TERM; echo ready; while true; do sleep 0.1; done"});
    CHECK(eventually([&] { return cli({"logs", h}).out.find("ready") != std::string::npos; }));
    CHECK(cli({"stop", "-t", "5", h}).code == 0);
    auto c = ps_of(h);
    CHECK(c["ExitCode"] == 7);
    CHECK_THAT(cli({"logs", h}).out, Catch::Contains("handled"));
    // --stop-signal, and a trap that ignores it: SIGKILL after the timeout.
    std::string g = run_detached({"--stop-signal", "USR1", "--stop-timeout", "1", "busybox", "sh", "-c",
                                  "trap 'echo got-usr1' USR1; echo ready; while true; do sleep 0.1; done"});
    CHECK(eventually([&] { return cli({"logs", g}).out.find("ready") != std::string::npos; }));
    t0 = Clock::now();
    CHECK(cli({"stop", g}).code == 0);
    CHECK(Clock::now() - t0 >= 900ms);
    CHECK(ps_of(g)["ExitCode"] == 137);
    CHECK_THAT(cli({"logs", g}).out, Catch::Contains("got-usr1"));
    CHECK(cli({"rm", s, h, g}).code == 0);
    check_clean_store();
}

void check_sigkill_anywhere() {
    ensure_default_image();
    // The container's PID 1 killed: exit 137 recorded by its monitor.
    std::string a = run_detached({"busybox", "sleep", "1000"});
    REQUIRE(::kill(container_pid(a), SIGKILL) == 0);
    CHECK(eventually([&] { return ps_of(a)["ExitCode"] == 137; }));
    CHECK(eventually([] { return monitors().empty(); }));

    // The monitor killed: the container dies with it; ps says why.
    std::string b = run_detached({"busybox", "sleep", "1000"});
    pid_t cp = container_pid(b);
    auto mons = monitors();
    REQUIRE(mons.size() == 1);
    REQUIRE(::kill(mons[0], SIGKILL) == 0);
    CHECK(eventually([&] { return ::kill(cp, 0) != 0 || fs::read_file(fmt::format("/proc/{}/stat", cp)).value_or("").find(") Z") != std::string::npos; }));
    auto c = ps_of(b);
    CHECK(c["State"] == "exited");
    CHECK_THAT(c.value("Reason", ""), Catch::Contains("monitor"));

    // bock run -d (or the cleanup) killed at each named point: ps tells
    // the truth, rm -f cleans.
    struct Point {
        const char* name;
        const char* expect;  // the state ps shows; "" when nothing is left
        const char* command;
    };
    const Point points[] = {
        {"detached-before-monitor", "exited", "sleep 1000"},  // bock killed: no monitor yet
        {"monitor-pid-written", "", "sleep 1000"},            // the monitor-to-be killed: bock undoes it all
        {"monitor-before-exec", "", "sleep 1000"},
        {"detached-monitor-ready", "running", "sleep 1000"},  // bock killed after the monitor took over
        {"cleanup-locked", "exited", "exit 0"},               // the cleanup killed: the exit file says
        {"cleanup-recorded", "exited", "exit 0"},
    };
    size_t expected = 2;
    for (const auto& pt : points) {
        INFO(pt.name);
        auto before = ps_all().size();
        auto r = cli({"run", "-d", "busybox", "sh", "-c", pt.command},
                     {std::string("BOCK_TEST_KILL_POINT=") + pt.name});
        if (std::string(pt.expect).empty()) {
            CHECK(r.code != 0);
            CHECK(ps_all().size() == before);
            continue;
        }
        expected++;
        CHECK(eventually([&] {
            auto all = ps_all();
            return all.size() == before + 1 && all[0]["State"] == pt.expect;
        }, 5s));
        auto all = ps_all();
        if (std::string(pt.expect) == "exited" && std::string(pt.command) == "exit 0") CHECK(all[0]["ExitCode"] == 0);
        if (std::string(pt.name) == "detached-before-monitor")
            CHECK_THAT(all[0].value("Reason", ""), Catch::Contains("was killed"));
    }
    auto all = lines(cli({"ps", "-a", "-q"}).out);
    CHECK(all.size() == expected);
    std::vector<std::string> rm = {"rm", "-f"};
    rm.insert(rm.end(), all.begin(), all.end());
    auto r = cli(rm);
    INFO(r.err);
    CHECK(r.code == 0);
    check_clean_store();
}

void check_fifty_concurrent() {
    ensure_default_image();
    constexpr int n = 50;
    std::vector<Pid> procs;
    for (int i = 0; i < n; i++) {
        SpawnOptions o;
        o.argv = {bin("bock"), "run", "-d", "busybox", "sleep", "1000"};
        o.capture_stdout = true;
        auto p = spawn_program(o);
        REQUIRE(p);
        procs.push_back(std::move(*p));
    }
    int ok = 0;
    for (auto& p : procs) {
        auto st = p.wait();
        if (st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0) ok++;
    }
    CHECK(ok == n);
    auto ids = lines(cli({"ps", "-q"}).out);
    CHECK(ids.size() == static_cast<size_t>(n));
    CHECK(monitors().size() == static_cast<size_t>(n));
    std::vector<std::string> stop = {"stop"};
    stop.insert(stop.end(), ids.begin(), ids.end());
    auto t0 = Clock::now();
    CHECK(cli(stop).code == 0);
    CHECK(Clock::now() - t0 < 20s);
    CHECK(lines(cli({"ps", "-q"}).out).empty());
    auto r = cli({"rm", "-f", "-a"});
    CHECK(r.code == 0);
    check_clean_store();
}

}  // namespace bock::test
