#include "observe_scenarios.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "bock/common/subprocess.hpp"
#include "lifecycle_scenarios.hpp"
#include "testlib.hpp"

namespace bock::test {
namespace {

using namespace std::chrono_literals;

std::string store() { return env_or("BOCK_ROOT", ""); }

nlohmann::json inspect_state(const std::string& key) {
    auto r = cli({"inspect", key});
    INFO(r.err);
    REQUIRE(r.code == 0);
    return nlohmann::json::parse(r.out).at(0)["State"];
}

nlohmann::json ps_entry(const std::string& id) {
    for (const auto& c : nlohmann::json::parse(cli({"ps", "-a", "--format", "json"}).out))
        if (c["Id"] == id) return c;
    FAIL("container " << id << " not in ps");
    return {};
}

std::vector<std::string> split_cols(const std::string& line) {
    std::vector<std::string> out;
    std::string cur;
    size_t spaces = 0;
    for (char ch : line) {
        if (ch == ' ') {
            spaces++;
            continue;
        }
        if (spaces >= 2 && !cur.empty()) {
            out.push_back(cur);
            cur.clear();
        } else if (spaces == 1 && !cur.empty()) {
            cur += ' ';
        }
        spaces = 0;
        cur += ch;
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
}

void ensure_default_image() { REQUIRE(cli({"run", "--rm", "busybox", "true"}).code == 0); }

// The container's tick file (a counter written every 50 ms), read from its upper directory.
std::string tick(const std::string& id) {
    auto r = cli({"unshare", "cat", store() + "/containers/" + id + "/upper/tmp/tick"});
    return r.code == 0 ? r.out : "";
}

}  // namespace

void check_top() {
    ensure_default_image();
    std::string id = run_detached({"--name", "topper", "busybox", "sh", "-c", "sleep 1000 & sleep 1001; echo done"});
    pid_t host_pid = inspect_state(id)["Pid"].get<pid_t>();
    REQUIRE(host_pid > 0);
    // The background sleep may need a moment to exist.
    Run r;
    for (int i = 0; i < 50; i++) {
        r = cli({"top", "topper"});
        if (r.out.find("sleep 1000") != std::string::npos) break;
        std::this_thread::sleep_for(100ms);
    }
    INFO(r.out << r.err);
    REQUIRE(r.code == 0);
    auto l = lines(r.out);
    REQUIRE(l.size() == 4);  // header, sh, two sleeps
    CHECK(split_cols(l[0]) == std::vector<std::string>{"USER", "PID", "PPID", "%CPU", "ELAPSED", "TTY", "TIME", "COMMAND"});
    auto init = split_cols(l[1]);
    REQUIRE(init.size() == 8);
    CHECK(init[0] == "root");  // named from the container's /etc/passwd
    CHECK(init[1] == "1");     // its own pid namespace
    CHECK(init[2] == "0");
    CHECK(init[5] == "?");
    CHECK(init[7] == "sh -c sleep 1000 & sleep 1001; echo done");
    auto child = split_cols(l[2]);
    CHECK(child[2] == "1");
    CHECK_THAT(r.out, Catch::Contains("sleep 1001"));

    // Named, comma-separated and AIX descriptors; hpid is the host's pid.
    auto named = cli({"top", id.substr(0, 12), "hpid,pid", "%c", "capeff", "seccomp", "state"});
    INFO(named.err);
    REQUIRE(named.code == 0);
    auto nl = lines(named.out);
    REQUIRE(nl.size() == 4);
    CHECK(split_cols(nl[0]) == std::vector<std::string>{"HPID", "PID", "COMMAND", "EFFECTIVE CAPS", "SECCOMP", "STATE"});
    auto first = split_cols(nl[1]);
    CHECK(first[0] == std::to_string(host_pid));
    CHECK(first[2] == "sh");
    CHECK_THAT(first[3], Catch::Contains("CHOWN") && Catch::Contains("KILL"));
    // As the kernel says: /proc/PID/status of the same process.
    auto status = fs::read_file("/proc/" + std::to_string(host_pid) + "/status").value_or("");
    auto at = status.find("Seccomp:");
    REQUIRE(at != std::string::npos);
    int mode = std::atoi(status.c_str() + at + 8);
    CHECK(first[4] == (mode == 2 ? "filter" : mode == 1 ? "strict" : "disabled"));
    CHECK(first[5] == "S");

    auto bad = cli({"top", "topper", "pid", "nosuch"});
    CHECK(bad.code == 125);
    CHECK_THAT(bad.err, Catch::Contains("unknown top descriptor `nosuch`"));
    CHECK_THAT(bad.err, Catch::Contains("etime"));
    REQUIRE(cli({"rm", "-f", "topper"}).code == 0);
    REQUIRE(cli({"run", "--name", "done", "busybox", "true"}).code == 0);
    auto stopped = cli({"top", "done"});
    CHECK(stopped.code == 125);
    CHECK_THAT(stopped.err, Catch::Contains("is not running"));
    CHECK(cli({"top", "nosuchcontainer"}).code != 0);
}

void check_stats() {
    ensure_default_image();
    // Busy for a moment, then idle: its CPU time is well above zero.
    std::string id = run_detached({"--name", "statser", "busybox", "sh", "-c",
                                   "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; touch /tmp/busy-done; sleep 1000; echo end"});
    for (int i = 0; i < 200; i++) {
        if (cli({"unshare", "test", "-e", store() + "/containers/" + id + "/upper/tmp/busy-done"}).code == 0) break;
        std::this_thread::sleep_for(100ms);
    }
    auto r = cli({"stats", "--no-stream", "--format", "json", "statser"});
    INFO(r.out << r.err);
    REQUIRE(r.code == 0);
    auto arr = nlohmann::json::parse(r.out);
    REQUIRE(arr.size() == 1);
    auto s = arr[0];
    CHECK(s["id"] == id.substr(0, 12));
    CHECK(s["name"] == "statser");
    auto raw = s["raw"];
    CHECK(raw["cpu_ns"].get<uint64_t>() > 50'000'000);  // the loop: well over 50 ms
    CHECK(raw["mem_usage"].get<uint64_t>() > 0);
    CHECK(raw["mem_limit"].get<uint64_t>() >= raw["mem_usage"].get<uint64_t>());
    CHECK(raw["pids"] == 2);
    CHECK(raw["avg_cpu"].get<double>() > 0);
    CHECK(!raw["net_rx"].is_null());  // its own network namespace
    auto src = s["sources"];
    if (is_root()) {
        CHECK(src["cpu"] == "cgroup");
        CHECK(src["memory"] == "cgroup");
        CHECK(src["pids"] == "cgroup");
        CHECK(src["block_io"] == "cgroup");
    } else {
        CHECK(src["cpu"] == "/proc");
        CHECK(src["memory"] == "/proc");
        CHECK_THAT(r.err, Catch::Contains("note: no cgroup of its own"));
    }
    // Pressure: wherever this kernel reports it.
    if (fs::exists("/proc/pressure/cpu")) {
        CHECK(s["pressure"].contains("cpu"));
        CHECK(s["pressure"]["memory"].contains("some"));
        CHECK(src["pressure"] != "none");
        if (src["pressure"] == "host /proc/pressure") CHECK_THAT(r.err, Catch::Contains("per-container pressure needs cgroup v2"));
    }

    auto table = cli({"stats", "--no-stream"});
    REQUIRE(table.code == 0);
    auto tl = lines(table.out);
    REQUIRE(tl.size() == 2);
    CHECK_THAT(tl[0], Catch::StartsWith("ID") && Catch::Contains("MEM USAGE / LIMIT") && Catch::Contains("PSI CPU/MEM/IO"));
    CHECK_THAT(tl[1], Catch::StartsWith(id.substr(0, 12)) && Catch::Contains("statser"));
    auto tmpl = cli({"stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}", id});
    CHECK(lines(tmpl.out) == std::vector<std::string>{"statser 2"});
    // Streaming: two samples a second apart (timeout ends it).
    auto stream = run({"timeout", "4", bin("bock"), "stats", "--interval", "1", "--format", "{{.Name}}"});
    CHECK(lines(stream.out).size() >= 2);

    REQUIRE(cli({"rm", "-f", id}).code == 0);
    auto gone = cli({"stats", "--no-stream", id});
    CHECK(gone.code != 0);
    CHECK(cli({"stats", "--no-stream", "--format", "{{.Nope"}).code != 0);
}

void check_pause() {
    ensure_default_image();
    std::string id = run_detached({"--name", "pauser", "busybox", "sh", "-c",
                                   "i=0; while true; do i=$((i+1)); echo $i > /tmp/tick; sleep 0.05; done"});
    for (int i = 0; i < 100 && tick(id).empty(); i++) std::this_thread::sleep_for(50ms);
    REQUIRE(!tick(id).empty());
    if (!is_root()) {
        // Rootless on this cgroup v1 host: no cgroup of its own, as podman refuses.
        auto r = cli({"pause", "pauser"});
        CHECK(r.code == 125);
        CHECK_THAT(r.err, Catch::Contains("no cgroup of its own"));
        CHECK_THAT(r.err, Catch::Contains("cgroup v2"));
        CHECK(ps_entry(id)["State"] == "running");
        auto c = cli({"commit", "--pause", "pauser", "localhost/paused-commit:1"});
        INFO(c.err);
        CHECK(c.code == 0);
        CHECK_THAT(c.err, Catch::Contains("--pause"));
        CHECK(cli({"unpause", "pauser"}).code == 125);
        REQUIRE(cli({"rm", "-f", "pauser"}).code == 0);
        return;
    }
    auto p = cli({"pause", "pauser"});
    INFO(p.err);
    REQUIRE(p.code == 0);
    CHECK(lines(p.out) == std::vector<std::string>{id});
    auto st = inspect_state("pauser");
    CHECK(st["Status"] == "paused");
    CHECK(st["Paused"] == true);
    CHECK(st["Running"] == true);
    CHECK(ps_entry(id)["State"] == "paused");
    CHECK(ps_entry(id)["Status"] == "Paused");
    CHECK(lines(cli({"ps", "-q", "--filter", "status=paused"}).out) == std::vector<std::string>{id.substr(0, 12)});
    // Frozen: the counter stands still.
    std::string before = tick(id);
    std::this_thread::sleep_for(400ms);
    CHECK(tick(id) == before);
    auto again = cli({"pause", "pauser"});
    CHECK(again.code == 125);
    CHECK_THAT(again.err, Catch::Contains("already paused"));

    REQUIRE(cli({"unpause", "pauser"}).code == 0);
    CHECK(inspect_state("pauser")["Status"] == "running");
    std::this_thread::sleep_for(400ms);
    CHECK(tick(id) != before);
    CHECK(cli({"unpause", "pauser"}).code == 125);

    // commit --pause: frozen for the commit, running afterwards.
    auto c = cli({"commit", "--pause", "pauser", "localhost/paused-commit:1"});
    INFO(c.err);
    CHECK(c.code == 0);
    CHECK(ps_entry(id)["State"] == "running");

    // A paused container stops (the signal, then thawed).
    REQUIRE(cli({"pause", "pauser"}).code == 0);
    auto t0 = std::chrono::steady_clock::now();
    auto stop = cli({"stop", "-t", "2", "pauser"});
    CHECK(stop.code == 0);
    CHECK(std::chrono::steady_clock::now() - t0 < 8s);
    CHECK(ps_entry(id)["State"] == "exited");
    // And rm -f of a paused one.
    std::string other = run_detached({"busybox", "sleep", "1000"});
    REQUIRE(cli({"pause", other}).code == 0);
    CHECK(cli({"rm", "-f", other}).code == 0);
    // A foreground `bock run`: its cgroup found through /proc; paused, rm -f
    // kills it and removes that cgroup (its killed bock cannot).
    SpawnOptions fo;
    fo.argv = {bin("bock"), "run", "--name", "fgpause", "busybox", "sleep", "1000"};
    auto fg = spawn_program(fo);
    REQUIRE(fg);
    std::string fg_id;
    for (int i = 0; i < 100 && fg_id.empty(); i++) {
        auto q = lines(cli({"ps", "-q", "--no-trunc", "--filter", "name=fgpause"}).out);
        if (!q.empty() && inspect_state(q[0])["Pid"].get<int>() > 0) fg_id = q[0];
        else std::this_thread::sleep_for(100ms);
    }
    REQUIRE(!fg_id.empty());
    REQUIRE(fs::exists("/sys/fs/cgroup/freezer/bock/" + fg_id));
    REQUIRE(cli({"pause", "fgpause"}).code == 0);
    CHECK(inspect_state("fgpause")["Status"] == "paused");
    CHECK(cli({"rm", "-f", "fgpause"}).code == 0);
    CHECK_FALSE(fs::exists("/sys/fs/cgroup/freezer/bock/" + fg_id));
    CHECK_FALSE(fs::exists("/sys/fs/cgroup/memory/bock/" + fg_id));

    auto ev = cli({"events", "--format", "json", "--filter", "container=pauser"});
    std::vector<std::string> actions;
    for (const auto& l : lines(ev.out)) actions.push_back(nlohmann::json::parse(l)["Status"]);
    CHECK(std::count(actions.begin(), actions.end(), "pause") == 2);
    CHECK(std::count(actions.begin(), actions.end(), "unpause") == 1);
    REQUIRE(cli({"rm", "-f", "pauser"}).code == 0);
}

void check_events_follow() {
    ensure_default_image();
    REQUIRE(cli({"run", "--name", "follow-me", "busybox", "true"}).code == 0);
    // The tag's other cases renamed containers too: only this one's events.
    std::string id = lines(cli({"ps", "-a", "-q", "--no-trunc", "--filter", "name=follow-me"}).out).at(0);
    int64_t until = static_cast<int64_t>(::time(nullptr)) + 5;
    Run follow;
    std::thread reader([&] {
        follow = cli({"events", "--follow", "--format", "json", "--filter", "event=rename", "--filter",
                      "container=" + id, "--until", std::to_string(until)});
    });
    std::this_thread::sleep_for(1s);
    auto r = cli({"rename", "follow-me", "followed"});
    reader.join();
    REQUIRE(r.code == 0);
    INFO(follow.err);
    CHECK(follow.code == 0);
    CHECK(static_cast<int64_t>(::time(nullptr)) >= until);  // it waited for --until
    auto l = lines(follow.out);
    REQUIRE(l.size() == 1);
    auto e = nlohmann::json::parse(l[0]);
    CHECK(e["Status"] == "rename");
    CHECK(e["Name"] == "followed");
    // Without --until it runs on until stopped; the history comes first.
    auto t = run({"timeout", "1", bin("bock"), "events", "--follow", "--filter", "event=rename", "--filter",
                  "container=" + id});
    CHECK(t.code == 124);
    CHECK(lines(t.out).size() == 1);
}

void check_completion() {
    ensure_default_image();
    std::string id = run_detached({"--name", "completer", "busybox", "sleep", "1000"});
    std::string dir = bin("bock").substr(0, bin("bock").rfind('/'));
    auto bash = [&](const std::string& words, int cword) {
        std::string script = "source <(bock completion bash) || exit 3\n"
                             "COMP_WORDS=(" + words + "); COMP_CWORD=" + std::to_string(cword) + "\n"
                             "_bock; printf '%s\\n' \"${COMPREPLY[@]}\"\n";
        auto r = run({"bash", "-c", script}, std::nullopt,
                     {"PATH=" + dir + ":" + env_or("PATH", "/usr/bin:/bin")});
        INFO(r.err);
        REQUIRE(r.code == 0);
        return lines(r.out);
    };
    CHECK(bash("bock ru", 1) == std::vector<std::string>{"run"});
    auto top = bash("bock ''", 1);
    CHECK(std::find(top.begin(), top.end(), "pause") != top.end());
    CHECK(std::find(top.begin(), top.end(), "__complete") == top.end());
    CHECK(bash("bock stop comp", 2) == std::vector<std::string>{"completer"});
    CHECK(bash("bock --log-level debug top compl", 4) == std::vector<std::string>{"completer"});
    CHECK(bash("bock ps --for", 2) == std::vector<std::string>{"--format"});
    CHECK(bash("bock ps --format j", 3) == std::vector<std::string>{"json"});
    CHECK(bash("bock system p", 2) == std::vector<std::string>{"prune"});
    auto imgs = bash("bock run ''", 2);  // image names, from `bock images`
    auto listed = nlohmann::json::parse(cli({"images", "--format", "json"}).out);
    REQUIRE(!listed.empty());
    std::string name = listed[0]["Names"].at(0);
    CHECK(std::find(imgs.begin(), imgs.end(), name) != imgs.end());
    CHECK(bash("bock cp compl", 2) == std::vector<std::string>{"completer:"});

    auto zsh = cli({"completion", "zsh"});
    CHECK(zsh.code == 0);
    CHECK_THAT(zsh.out, Catch::Contains("compdef _bock bock"));
    auto fish = cli({"completion", "fish"});
    CHECK_THAT(fish.out, Catch::Contains("complete -c bock"));
    CHECK(cli({"completion", "tcsh"}).code == 125);
    REQUIRE(cli({"rm", "-f", id}).code == 0);
}

}  // namespace bock::test
