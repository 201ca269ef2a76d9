// `bock exec`, `inspect`, `ps` and health checks end to end, shared by the
// rootless and root suites (exec_scenarios.hpp).
#include "exec_scenarios.hpp"

#include <signal.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <thread>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "bock/common/subprocess.hpp"
#include "testlib.hpp"

namespace bock::test {
namespace {

using Catch::Contains;
using nlohmann::json;

std::string run_root() { return env_or("BOCK_RUNROOT", ""); }

// A running container: `bock run [flags] busybox sleep 1000` in the
// background, waited for until `bock ps` shows it with its process.
struct Running {
    Pid bock;
    std::string id, name;
    pid_t pid = 0;

    explicit Running(const std::vector<std::string>& flags = {}) {
        SpawnOptions o;
        o.argv = {bin("bock"), "run"};
        o.argv.insert(o.argv.end(), flags.begin(), flags.end());
        for (const char* a : {"busybox", "sleep", "1000"}) o.argv.push_back(a);
        size_t before = lines(cli({"ps", "-q"}).out).size();
        auto p = spawn_program(o);
        REQUIRE(p);
        bock = std::move(*p);
        for (int i = 0; i < 400 && pid == 0; i++) {
            auto ps = json::parse(cli({"ps", "--format", "json"}).out);
            if (ps.size() > before) {
                id = ps[0]["Id"];
                name = ps[0]["Names"][0];
                if (auto t = fs::read_file(run_root() + "/containers/" + id + "/pid"); t && !t->empty())
                    pid = std::stoi(*t);
            }
            if (pid == 0) std::this_thread::sleep_for(std::chrono::milliseconds(25));
        }
        REQUIRE(pid > 0);
    }
    ~Running() {
        if (bock.valid()) (void)cli({"rm", "-f", id});
    }
    // Waits for the foreground bock to return; its exit code.
    int wait() {
        auto st = bock.wait();
        REQUIRE(st);
        return exit_code_from_status(*st);
    }
};

Run exec(const std::vector<std::string>& args, const std::optional<std::string>& input = {}) {
    std::vector<std::string> argv = {bin("bock"), "exec"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, input);
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}

uint64_t cap_eff(const std::string& status) {
    auto at = status.find("CapEff:");
    REQUIRE(at != std::string::npos);
    return std::stoull(status.substr(at + 7), nullptr, 16);
}

// A tmux server of the test's own (socket in the scratch directory).
struct Tmux {
    std::string sock = tmp_dir() + "/tmux.sock";
    Run call(const std::vector<std::string>& args) {
        std::vector<std::string> argv = {"tmux", "-S", sock};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv);
    }
    std::string screen() { return call({"capture-pane", "-p", "-t", "t"}).out; }
    // Waits until the pane shows `text`.
    bool wait_for(const std::string& text) {
        for (int i = 0; i < 200; i++) {
            if (screen().find(text) != std::string::npos) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
        }
        return false;
    }
    ~Tmux() { (void)call({"kill-server"}); }
};

}  // namespace

void check_exec() {
    Running c({"-e", "FROM_RUN=yes", "-w", "/etc"});

    // The container's environment, working directory and user by default.
    auto r = exec({c.name, "sh", "-c", "echo $FROM_RUN $HOSTNAME; pwd; id -u"});
    CHECK(r.code == 0);
    CHECK(lines(r.out) == std::vector<std::string>{"yes " + c.id.substr(0, 12), "/etc", "0"});
    // Its pid namespace: PID 1 is the container's sleep.
    r = exec({c.id.substr(0, 12), "cat", "/proc/1/cmdline"});
    CHECK(r.code == 0);
    CHECK_THAT(r.out, Contains("sleep"));
    // Its cgroups (as root; rootless v1 is not delegated, nothing to join).
    if (is_root()) {
        auto own = exec({c.name, "cat", "/proc/self/cgroup"});
        CHECK(own.code == 0);
        CHECK(own.out == exec({c.name, "cat", "/proc/1/cgroup"}).out);
        CHECK_THAT(own.out, Contains("memory:/\n"));
    }
    // Its root filesystem: a file made by one exec is seen by the next.
    CHECK(exec({c.name, "sh", "-c", "echo made > /tmp/by-exec"}).code == 0);
    CHECK(trim(exec({c.name, "cat", "/tmp/by-exec"}).out) == "made");
    CHECK_FALSE(fs::exists("/tmp/by-exec"));

    // The flags: -e (also K from bock's environment), --env-file, -w, -u.
    std::string envfile = tmp_dir() + "/exec.env";
    REQUIRE(fs::write_file(envfile, "# a comment\n\nFROM_FILE=file value\nFROM_RUN=replaced\n"));
    r = run({bin("bock"), "exec", "-e", "A=1", "-e", "COPIED", "--env-file", envfile, "-w", "/tmp", "-u", "nobody",
             c.name, "sh", "-c", "echo $A $COPIED $FROM_RUN; echo $FROM_FILE; pwd; id -u; id -g"},
            std::nullopt, {"COPIED=from-bock"});
    CHECK(r.code == 0);
    CHECK(lines(r.out) == std::vector<std::string>{"1 from-bock replaced", "file value", "/tmp", "65534", "65534"});
    r = exec({"-u", "123:456", c.name, "sh", "-c", "id -u; id -g"});
    CHECK(lines(r.out) == std::vector<std::string>{"123", "456"});
    auto bad_user = exec({"-u", "no-such-user", c.name, "true"});
    CHECK(bad_user.code == 125);
    CHECK_THAT(bad_user.err, Contains("no-such-user"));

    // Exit codes: the command's own, 127 not found, 126 not executable.
    CHECK(exec({c.name, "sh", "-c", "exit 7"}).code == 7);
    auto nf = exec({c.name, "no-such-command"});
    CHECK(nf.code == 127);
    CHECK_THAT(nf.err, Contains("no-such-command"));
    CHECK(exec({c.name, "/etc/passwd"}).code == 126);
    // A signal kills it: 128 + signal.
    CHECK(exec({c.name, "sh", "-c", "kill -9 $$"}).code == 137);

    // stdin reaches the process only with -i.
    CHECK(exec({c.name, "cat"}, std::string("typed\n")).out.empty());
    CHECK(exec({"-i", c.name, "cat"}, std::string("typed\n")).out == "typed\n");

    // -d: returns at once, the process runs on (its output discarded).
    auto t0 = std::chrono::steady_clock::now();
    r = exec({"-d", c.name, "sh", "-c", "echo lost; sleep 2; touch /tmp/detached"});
    CHECK(r.code == 0);
    CHECK(r.out.empty());
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
    CHECK(exec({c.name, "test", "-e", "/tmp/detached"}).code == 1);
    bool made = false;
    for (int i = 0; i < 200 && !made; i++) {
        made = exec({c.name, "test", "-e", "/tmp/detached"}).code == 0;
        if (!made) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    CHECK(made);

    // --privileged: every capability bock holds, more than the container's set.
    uint64_t plain = cap_eff(exec({c.name, "cat", "/proc/self/status"}).out);
    uint64_t priv = cap_eff(exec({"--privileged", c.name, "cat", "/proc/self/status"}).out);
    CHECK((priv & plain) == plain);
    CHECK(priv != plain);

    // Usage errors and a container that is not running: 125, named.
    auto none = exec({"no-such-container", "true"});
    CHECK(none.code == 1);
    CHECK_THAT(none.err, Contains("no such container"));
    CHECK(exec({c.name}).code == 125);
    REQUIRE(cli({"run", "busybox", "true"}).code == 0);
    std::string exited = json::parse(cli({"ps", "-a", "--format", "json", "--filter", "status=exited"}).out)[0]["Id"];
    auto stopped = exec({exited, "true"});
    CHECK(stopped.code == 125);
    CHECK_THAT(stopped.err, Contains("is not running"));
    CHECK(cli({"rm", "-f", c.id}).code == 0);
    (void)c.wait();
    CHECK(cli({"rm", "-a"}).code == 0);
}

void check_exec_tty() {
    if (run({"tmux", "-V"}).code != 0) skip("tmux is not installed (scripts/install-deps.sh installs it)");
    Running c;
    Tmux t;
    std::string exit_file = tmp_dir() + "/exec-exit";
    std::string cmd = bin("bock") + " exec -it " + c.name + " sh; echo $? > " + exit_file + "; sleep 60";
    REQUIRE(t.call({"new-session", "-d", "-s", "t", "-x", "80", "-y", "24", cmd}).code == 0);
    REQUIRE(t.call({"send-keys", "-t", "t", "tty; stty size; echo mark-$((6*7))", "Enter"}).code == 0);
    REQUIRE(t.wait_for("mark-42"));
    std::string screen = t.screen();
    INFO(screen);
    CHECK_THAT(screen, Contains("/dev/pts/") && Contains("24 80"));
    // The terminal is resized: the process's pty follows (SIGWINCH).
    REQUIRE(t.call({"resize-window", "-t", "t", "-x", "100", "-y", "30"}).code == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    REQUIRE(t.call({"send-keys", "-t", "t", "stty size; echo mark-$((7*7))", "Enter"}).code == 0);
    REQUIRE(t.wait_for("mark-49"));
    CHECK_THAT(t.screen(), Contains("30 100"));
    // ^C goes to the process through the pty (raw mode), not to bock.
    REQUIRE(t.call({"send-keys", "-t", "t", "sleep 30; echo after-$((2*5))", "Enter"}).code == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    REQUIRE(t.call({"send-keys", "-t", "t", "C-c"}).code == 0);
    REQUIRE(t.call({"send-keys", "-t", "t", "echo still-$((3*3))", "Enter"}).code == 0);
    CHECK(t.wait_for("still-9"));
    REQUIRE(t.call({"send-keys", "-t", "t", "exit 4", "Enter"}).code == 0);
    std::string code;
    for (int i = 0; i < 200 && code.empty(); i++) {
        code = trim(fs::read_file(exit_file).value_or(""));
        if (code.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    CHECK(code == "4");
    // -t without -i through a pipe: the pty's output, no terminal needed.
    auto r = exec({"-t", c.name, "sh", "-c", "tty; exit 3"});
    CHECK(r.code == 3);
    CHECK_THAT(r.out, Contains("/dev/pts/"));
    CHECK(exec({"-it", c.name, "true"}).code == 125);  // -i with a terminal needs one
    CHECK(exec({"-dt", c.name, "true"}).code == 125);
}

void check_inspect_and_ps() {
    Running c({"--label", "app=web", "--label", "tier=front"});
    REQUIRE(cli({"run", "busybox", "sh", "-c", "exit 3"}).code == 3);
    auto all = json::parse(cli({"ps", "-a", "--format", "json"}).out);
    REQUIRE(all.size() == 2);
    std::string exited = all[0]["Id"];
    std::string exited_name = all[0]["Names"][0];

    // inspect: Docker's fields, checked against the facts.
    auto r = cli({"inspect", c.name});
    REQUIRE(r.code == 0);
    auto doc = json::parse(r.out);
    REQUIRE(doc.size() == 1);
    auto d = doc[0];
    CHECK(d["Id"] == c.id);
    CHECK(d["Name"] == c.name);
    CHECK(d["Path"] == "sleep");
    CHECK(d["Args"] == json::array({"1000"}));
    CHECK(d["State"]["Status"] == "running");
    CHECK(d["State"]["Running"] == true);
    CHECK(d["State"]["Pid"] == c.pid);
    CHECK(fs::exists("/proc/" + std::to_string(d["State"]["Pid"].get<int>())));
    CHECK(d["State"]["FinishedAt"] == "0001-01-01T00:00:00Z");
    CHECK_FALSE(d["State"].contains("Health"));
    CHECK(d["Image"].get<std::string>().rfind("sha256:", 0) == 0);
    CHECK(d["Config"]["Cmd"] == json::array({"sleep", "1000"}));
    CHECK(d["Config"]["Labels"]["app"] == "web");
    CHECK(d["Config"]["Hostname"] == c.id.substr(0, 12));
    CHECK(d["HostConfig"]["AutoRemove"] == false);
    CHECK_FALSE(d["Driver"].get<std::string>().empty());
    for (const char* k : {"Created", "RestartCount", "Mounts", "NetworkSettings"}) CHECK(d.contains(k));
    d = json::parse(cli({"inspect", exited}).out)[0];
    CHECK(d["State"]["Status"] == "exited");
    CHECK(d["State"]["Running"] == false);
    CHECK(d["State"]["ExitCode"] == 3);
    CHECK(d["State"]["Pid"] == 0);
    CHECK(d["State"]["FinishedAt"] != "0001-01-01T00:00:00Z");

    // --format templates; images too; --type.
    CHECK(cli({"inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", exited}).out == "exited 3\n");
    CHECK(cli({"inspect", "-f", "{{json .Config.Cmd}}", c.name}).out == "[\"sleep\",\"1000\"]\n");
    CHECK(cli({"inspect", "-f", "{{.Config.Labels.tier}}|{{.NoSuchField}}", c.name}).out == "front|<no value>\n");
    CHECK(cli({"inspect", "-f", "{{.Name}}", c.name, exited}).out == c.name + "\n" + exited_name + "\n");
    auto img = json::parse(cli({"inspect", "busybox"}).out);
    REQUIRE(img.size() == 1);
    CHECK(img[0].contains("RepoTags"));
    auto not_container = cli({"inspect", "--type", "container", "busybox"});
    CHECK(not_container.code == 125);
    CHECK_THAT(not_container.err, Contains("no such container: busybox"));
    CHECK(cli({"inspect", "--type", "image", c.name}).code == 125);
    auto bad = cli({"inspect", "-f", "{{range .Args}}x{{end}}", c.name});
    CHECK(bad.code == 125);
    CHECK_THAT(bad.err, Contains("range"));

    // ps: -q, --no-trunc, filters, --format.
    CHECK(lines(cli({"ps", "-q"}).out) == std::vector<std::string>{c.id.substr(0, 12)});
    CHECK(lines(cli({"ps", "-aq", "--no-trunc"}).out) == std::vector<std::string>{exited, c.id});
    auto ids = [](std::vector<std::string> args) {
        args.insert(args.begin(), "ps");
        args.push_back("-q");
        return lines(cli(args).out);
    };
    std::vector<std::string> just_running{c.id.substr(0, 12)}, just_exited{exited.substr(0, 12)};
    CHECK(ids({"--filter", "status=exited"}) == just_exited);  // a status filter lists stopped ones without -a
    CHECK(ids({"-a", "--filter", "status=running"}) == just_running);
    CHECK(ids({"-a", "--filter", "name=" + c.name}) == just_running);
    CHECK(ids({"-a", "--filter", "id=" + exited.substr(0, 5)}) == just_exited);
    CHECK(ids({"-a", "--filter", "label=app"}) == just_running);
    CHECK(ids({"-a", "--filter", "label=app=web"}) == just_running);
    CHECK(ids({"-a", "--filter", "label=app=db"}).empty());
    CHECK(ids({"-a", "--filter", "ancestor=busybox"}).size() == 2);
    CHECK(ids({"-a", "--filter", "ancestor=other"}).empty());
    CHECK(ids({"--filter", "exited=3"}) == just_exited);
    CHECK(ids({"--filter", "exited=0"}).empty());
    CHECK(ids({"-a", "--filter", "status=exited", "--filter", "status=running"}).size() == 2);
    CHECK(ids({"-a", "--filter", "status=exited", "--filter", "label=app"}).empty());
    auto badf = cli({"ps", "--filter", "colour=red"});
    CHECK(badf.code == 125);
    CHECK_THAT(badf.err, Contains("colour=red"));

    CHECK(cli({"ps", "--format", "{{.ID}} {{.Names}} {{.State}}"}).out ==
          c.id.substr(0, 12) + " " + c.name + " running\n");
    auto st = cli({"ps", "-a", "--format", "{{.Status}}|{{.Command}}|{{.Image}}"});
    auto rows = lines(st.out);
    REQUIRE(rows.size() == 2);
    CHECK_THAT(rows[0], Contains("Exited (3)") && Contains("|\"sh -c exit 3\"|"));
    CHECK_THAT(rows[1], Contains("Up ") && Contains("busybox"));
    auto table = lines(cli({"ps", "--format", "table {{.ID}}\t{{.Names}}"}).out);
    REQUIRE(table.size() == 2);
    CHECK(std::regex_match(table[0], std::regex("CONTAINER ID +NAMES")));
    CHECK(std::regex_match(table[1], std::regex(c.id.substr(0, 12) + " +" + c.name)));
    CHECK(cli({"rm", "-f", c.id}).code == 0);
    (void)c.wait();
    CHECK(cli({"rm", "-a"}).code == 0);
}

void check_health() {
    Running c({"--health-cmd", "test -e /tmp/ok", "--health-retries", "2", "--health-interval", "1h"});
    auto health = [&] { return json::parse(cli({"inspect", c.name}).out)[0]["State"]["Health"]; };
    auto status = [&] { return json::parse(cli({"ps", "--format", "json"}).out)[0]["Status"].get<std::string>(); };
    auto check = [&] { return cli({"healthcheck", "run", c.name}).code; };

    // The record carries the check for the monitor's timer.
    auto rec = json::parse(fs::read_file(env_or("BOCK_ROOT", "") + "/containers/" + c.id + "/container.json").value_or("{}"));
    CHECK(rec["healthcheck"]["test"] == json::array({"CMD-SHELL", "test -e /tmp/ok"}));
    CHECK(rec["healthcheck"]["retries"] == 2);
    CHECK(rec["healthcheck"]["interval_ns"] == int64_t{3600} * 1000000000);
    CHECK(rec["healthcheck"]["on_failure"] == "none");
    auto cfg = json::parse(cli({"inspect", c.name}).out)[0]["Config"]["Healthcheck"];
    CHECK(cfg["Test"] == json::array({"CMD-SHELL", "test -e /tmp/ok"}));

    CHECK(health()["Status"] == "starting");
    CHECK_THAT(status(), Contains("(starting)"));
    CHECK(exec({c.name, "touch", "/tmp/ok"}).code == 0);
    CHECK(check() == 0);
    CHECK(health()["Status"] == "healthy");
    CHECK_THAT(status(), Contains("(healthy)"));
    CHECK(cli({"ps", "-q", "--filter", "health=healthy"}).out == c.id.substr(0, 12) + "\n");

    // The file goes: one failure is not enough (retries 2), two are.
    CHECK(exec({c.name, "rm", "/tmp/ok"}).code == 0);
    CHECK(check() == 1);
    CHECK(health()["Status"] == "healthy");
    CHECK(health()["FailingStreak"] == 1);
    CHECK(check() == 1);
    auto h = health();
    CHECK(h["Status"] == "unhealthy");
    CHECK(h["FailingStreak"] == 2);
    CHECK_THAT(status(), Contains("(unhealthy)"));
    REQUIRE(h["Log"].size() == 3);
    CHECK(h["Log"][2]["ExitCode"] == 1);
    CHECK(h["Log"][0]["ExitCode"] == 0);
    // And comes back: healthy again at once.
    CHECK(exec({c.name, "touch", "/tmp/ok"}).code == 0);
    CHECK(check() == 0);
    CHECK(health()["Status"] == "healthy");
    CHECK(health()["FailingStreak"] == 0);
    for (int i = 0; i < 4; i++) CHECK(check() == 0);
    CHECK(health()["Log"].size() == 5);  // the last five only

    // A check that outlives its timeout fails, killed; on-failure=kill
    // kills the container once it is unhealthy.
    Running k({"--health-cmd", "echo checking; sleep 10", "--health-timeout", "300ms", "--health-retries", "1",
               "--health-on-failure=kill"});
    auto t0 = std::chrono::steady_clock::now();
    CHECK(cli({"healthcheck", "run", k.name}).code == 1);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
    CHECK(k.wait() == 137);
    auto kh = json::parse(cli({"inspect", k.name}).out)[0]["State"];
    CHECK(kh["Status"] == "exited");
    CHECK(kh["ExitCode"] == 137);
    CHECK(kh["Health"]["Status"] == "unhealthy");
    CHECK(kh["Health"]["Log"][0]["ExitCode"] == -1);
    CHECK_THAT(kh["Health"]["Log"][0]["Output"].get<std::string>(), Contains("timeout"));

    // Bad flags leave nothing behind; a container without a check says so.
    size_t before = lines(cli({"ps", "-aq"}).out).size();
    auto bad = cli({"run", "--health-cmd", "true", "--health-interval", "soon", "busybox", "true"});
    CHECK(bad.code == 125);
    CHECK_THAT(bad.err, Contains("--health-interval"));
    auto orphan = cli({"run", "--health-retries", "2", "busybox", "true"});
    CHECK(orphan.code == 125);
    CHECK_THAT(orphan.err, Contains("--health-cmd"));
    CHECK(lines(cli({"ps", "-aq"}).out).size() == before);
    // In the start period a failure does not count: still starting.
    Running sp({"--health-cmd", "false", "--health-retries", "1", "--health-start-period", "1h"});
    CHECK(cli({"healthcheck", "run", sp.name}).code == 1);
    auto sph = json::parse(cli({"inspect", sp.name}).out)[0]["State"]["Health"];
    CHECK(sph["Status"] == "starting");
    CHECK(sph["FailingStreak"] == 0);
    CHECK(sph["Log"].size() == 1);
    Running plain({"--no-healthcheck"});
    auto none = cli({"healthcheck", "run", plain.name});
    CHECK(none.code == 125);
    CHECK_THAT(none.err, Contains("has no health check"));
    CHECK(cli({"rm", "-f", c.id, plain.id, sp.id}).code == 0);
    (void)c.wait();
    (void)plain.wait();
    (void)sp.wait();
    CHECK(cli({"rm", "-a"}).code == 0);
}

void check_health_timer() {
    using namespace std::chrono;
    auto state = [&](const std::string& id) { return json::parse(cli({"inspect", id}).out)[0]["State"]; };
    auto ps_status = [&](const std::string& id) {
        for (const auto& c : json::parse(cli({"ps", "-a", "--format", "json"}).out))
            if (c["Id"] == id) return c["Status"].get<std::string>();
        return std::string();
    };
    auto until = [](const std::function<bool()>& f, milliseconds limit) {
        auto end = steady_clock::now() + limit;
        while (steady_clock::now() < end) {
            if (f()) return true;
            std::this_thread::sleep_for(milliseconds(20));
        }
        return f();
    };
    // interval 500 ms x retries 2: unhealthy at most ~1 s after the file goes.
    auto d = cli({"run", "-d", "--network", "none", "--health-cmd", "test -e /tmp/ok", "--health-interval", "500ms",
                  "--health-retries", "2", "busybox", "sh", "-c", "touch /tmp/ok; exec sleep 1000"});
    REQUIRE(d.code == 0);
    std::string id = lines(d.out).at(0);
    CHECK(until([&] { return state(id)["Health"]["Status"] == "healthy"; }, seconds(10)));
    CHECK_THAT(ps_status(id), Contains("(healthy)"));
    REQUIRE(cli({"exec", id, "rm", "/tmp/ok"}).code == 0);
    auto t0 = steady_clock::now();
    bool turned = until([&] { return state(id)["Health"]["Status"] == "unhealthy"; }, seconds(10));
    auto took = duration_cast<milliseconds>(steady_clock::now() - t0).count();
    CHECK(turned);
    WARN("unhealthy " << took << " ms after the file was removed (interval 500 ms x retries 2)");
    // interval x retries, with room for a loaded 2-core machine.
    CHECK(took < 1000 + 2500);
    CHECK_THAT(ps_status(id), Contains("(unhealthy)"));
    CHECK(state(id)["Health"]["FailingStreak"].get<int>() >= 2);
    CHECK(state(id)["Status"] == "running");  // on-failure none: it runs on
    REQUIRE(cli({"exec", id, "touch", "/tmp/ok"}).code == 0);
    CHECK(until([&] { return state(id)["Health"]["Status"] == "healthy"; }, seconds(10)));
    CHECK(cli({"rm", "-f", id}).code == 0);

    // --health-on-failure=restart: the cleanup starts it again (policy "no").
    auto r = cli({"run", "-d", "--network", "none", "--health-cmd", "test -e /tmp/ok", "--health-interval", "300ms",
                  "--health-retries", "1", "--health-on-failure=restart", "busybox", "sh", "-c",
                  "touch /tmp/ok; exec sleep 1000"});
    REQUIRE(r.code == 0);
    std::string rid = lines(r.out).at(0);
    CHECK(until([&] { return state(rid)["Health"]["Status"] == "healthy"; }, seconds(10)));
    int first = state(rid)["Pid"];
    REQUIRE(first > 0);
    // Hold the container's lock as soon as the cleanup lets go of it for
    // its backoff: the restart then waits for us, and ps/inspect show it.
    std::string lock_path = env_or("BOCK_ROOT", "") + "/containers/" + rid + "/lock";
    REQUIRE(cli({"exec", rid, "rm", "/tmp/ok"}).code == 0);
    int held = -1;
    auto end = steady_clock::now() + seconds(15);
    while (held < 0 && steady_clock::now() < end) {
        int fd = ::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) == 0) {
            auto rec = json::parse(fs::read_file(env_or("BOCK_ROOT", "") + "/containers/" + rid + "/container.json")
                                       .value_or("{}"), nullptr, false);
            if (rec.is_object() && rec.value("restarting", false)) {
                held = fd;
                break;
            }
            ::flock(fd, LOCK_UN);
        }
        if (fd >= 0) ::close(fd);
        std::this_thread::sleep_for(microseconds(500));
    }
    REQUIRE(held >= 0);
    auto st = state(rid);
    CHECK(st["Status"] == "restarting");
    CHECK(st["Restarting"] == true);
    CHECK_THAT(ps_status(rid), Contains("Restarting (137)"));
    CHECK(cli({"ps", "-q", "--filter", "status=restarting"}).out == rid.substr(0, 12) + "\n");
    ::close(held);
    CHECK(until([&] { return state(rid)["Status"] == "running"; }, seconds(10)));
    auto after = json::parse(cli({"inspect", rid}).out)[0];
    CHECK(after["RestartCount"] == 1);
    CHECK(after["State"]["Pid"] != first);
    // Its health starts over, and the new run's file makes it healthy.
    CHECK(until([&] { return state(rid)["Health"]["Status"] == "healthy"; }, seconds(10)));
    CHECK(cli({"rm", "-f", rid}).code == 0);
    CHECK(cli({"ps", "-a", "-q"}).out.empty());
}

}  // namespace bock::test
