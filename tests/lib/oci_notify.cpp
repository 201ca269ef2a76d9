// The seccomp notify scenario (oci_notify.hpp). The agent is a thread of
// the test process; it answers with libseccomp's notify API, as a real
// agent would.
#include "oci_notify.hpp"

#include <linux/seccomp.h>
#include <poll.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "bock/common/fd.hpp"
#include "bock/common/fs.hpp"
#include "bock/common/sys.hpp"
#include "testlib.hpp"

namespace bock::test {

namespace {

using nlohmann::json;

constexpr long kAnswer = 4242;
// getppid calls of one `bock-probe syscall getppid`: its report's "ppid"
// and the syscall check.
constexpr int kPerProbe = 2;

// A seccomp agent on a unix stream socket: each connection brings one
// container process state (JSON) with the notify fd; getppid is answered
// with kAnswer, any other notified syscall goes on (CONTINUE).
class Agent {
public:
    explicit Agent(std::string path) : path_(std::move(path)) {
        REQUIRE(path_.size() < sizeof(sockaddr_un::sun_path));
        srv_ = Fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        REQUIRE(srv_);
        struct sockaddr_un addr = {};
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
        (void)::unlink(path_.c_str());
        REQUIRE(::bind(srv_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(::listen(srv_.get(), 8) == 0);
        thread_ = std::thread([this] { loop(); });
    }
    ~Agent() {
        stop_ = true;
        thread_.join();
        (void)::unlink(path_.c_str());
    }
    Agent(const Agent&) = delete;
    Agent& operator=(const Agent&) = delete;

    const std::string& path() const { return path_; }
    // The states received so far (waits up to 5 s for at least `n`).
    std::vector<json> states(size_t n = 1) {
        for (int i = 0; i < 100; ++i) {
            {
                std::lock_guard lock(mu_);
                if (states_.size() >= n) return states_;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        std::lock_guard lock(mu_);
        return states_;
    }
    int answered() const { return answered_; }
    int bad_fds() const { return bad_fds_; }

private:
    void accept_one() {
        Fd conn(::accept4(srv_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!conn) return;
        std::string text;
        int fd = -1;
        for (;;) {
            char buf[4096];
            int got = -1;
            ssize_t n = sys::raw::recv_with_fd(conn.get(), buf, sizeof buf, &got);
            if (got >= 0) fd = got;
            if (n <= 0) break;  // EOF: the runtime closes after one state
            text.append(buf, static_cast<size_t>(n));
        }
        json j = json::parse(text, nullptr, false);
        if (fd < 0) ++bad_fds_;
        else fds_.emplace_back(fd);
        std::lock_guard lock(mu_);
        states_.push_back(j);
    }

    void answer(int fd) {
        struct seccomp_notif* req = nullptr;
        struct seccomp_notif_resp* resp = nullptr;
        if (seccomp_notify_alloc(&req, &resp) != 0) return;
        if (seccomp_notify_receive(fd, req) == 0) {
            resp->id = req->id;
            if (req->data.nr == SYS_getppid) {
                resp->val = kAnswer;
                resp->error = 0;
                resp->flags = 0;
                ++answered_;
            } else {
                resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
            }
            (void)seccomp_notify_respond(fd, resp);
        }
        seccomp_notify_free(req, resp);
    }

    void loop() {
        while (!stop_) {
            std::vector<struct pollfd> pfds{{srv_.get(), POLLIN, 0}};
            for (const auto& f : fds_) pfds.push_back({f.get(), POLLIN, 0});
            if (::poll(pfds.data(), pfds.size(), 100) <= 0) continue;
            if (pfds[0].revents & POLLIN) accept_one();
            std::vector<int> gone;
            for (size_t i = 1; i < pfds.size(); ++i) {
                if (pfds[i].revents & POLLIN) answer(pfds[i].fd);
                else if (pfds[i].revents & (POLLHUP | POLLERR)) gone.push_back(pfds[i].fd);
            }
            for (int g : gone)
                for (auto it = fds_.begin(); it != fds_.end(); ++it)
                    if (it->get() == g) {
                        fds_.erase(it);
                        break;
                    }
        }
    }

    std::string path_;
    Fd srv_;
    std::vector<Fd> fds_;  // the agent thread's only
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<int> answered_{0}, bad_fds_{0};
    std::mutex mu_;
    std::vector<json> states_;
};

std::string agent_path(const std::string& name) {
    std::string p = tmp_dir() + "/" + name + ".sock";
    if (p.size() < sizeof(sockaddr_un::sun_path)) return p;
    return fmt::format("/tmp/bock-agent-{}-{}.sock", ::getpid(), name);
}

// The probe bundle: /bock-probe syscall getppid, getppid notified.
std::string notify_bundle(const std::string& name, json& cfg, const std::string& listener) {
    std::string b = make_oci_bundle(name);
    REQUIRE(run({"cp", bin("bock-probe"), b + "/rootfs/bock-probe"}).code == 0);
    auto text = fs::read_file(b + "/config.json");
    REQUIRE(text);
    cfg = json::parse(*text);
    cfg["process"]["terminal"] = false;
    cfg["process"]["args"] = {"/bock-probe", "syscall", "getppid"};
    cfg["process"]["noNewPrivileges"] = true;
    cfg["annotations"] = {{"org.bock.test", name}};
    cfg["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                               {"listenerPath", listener},
                               {"listenerMetadata", "meta-" + name},
                               {"syscalls", {{{"names", {"getppid"}}, {"action", "SCMP_ACT_NOTIFY"}}}}};
    REQUIRE(fs::write_file(b + "/config.json", cfg.dump(2)));
    return b;
}

void write_config(const std::string& b, const json& cfg) { REQUIRE(fs::write_file(b + "/config.json", cfg.dump(2))); }

json getppid_result(const std::string& out) {
    auto j = json::parse(out, nullptr, false);
    REQUIRE(j.is_object());
    INFO("probe report: " << j.dump());
    REQUIRE(j.contains("syscall"));
    CHECK(j["syscall"]["name"] == "getppid");
    CHECK(j["ppid"] == kAnswer);  // the probe's own getppid(), notified too
    return j["syscall"];
}

void check_state(const json& s, const std::string& id, const std::string& bundle, const std::string& name) {
    INFO("container process state: " << s.dump());
    REQUIRE(s.is_object());
    CHECK(s["ociVersion"] == "1.1.0");
    CHECK(s["fds"] == json::array({"seccompFd"}));
    REQUIRE(s["pid"].is_number_integer());
    CHECK(s["pid"].get<int>() > 0);
    CHECK(s["metadata"] == "meta-" + name);
    CHECK(s["state"]["ociVersion"] == "1.1.0");
    CHECK(s["state"]["id"] == id);
    CHECK(s["state"]["status"] == "creating");
    CHECK(s["state"]["pid"] == s["pid"]);
    CHECK(s["state"]["bundle"] == bundle);
    CHECK(s["state"]["annotations"]["org.bock.test"] == name);
}

Run oci(const std::vector<std::string>& args) {
    std::vector<std::string> argv{bin("bock-oci")};
    argv.insert(argv.end(), args.begin(), args.end());
    Run r = run(argv);
    UNSCOPED_INFO("bock-oci " << fmt::format("{}", fmt::join(args, " ")) << " -> " << r.code << "\nstdout: "
                              << r.out << "\nstderr: " << r.err);
    return r;
}

// run in the foreground, with no_new_privs (load after the user switch)
// and without (load before it, with CAP_SYS_ADMIN).
void check_run(const std::string& p) {
    Agent agent(agent_path(p + "run"));
    json cfg;
    std::string name = p + "nrun";
    std::string b = notify_bundle(name, cfg, agent.path());
    std::string pid_file = tmp_dir() + "/" + name + ".pid";
    Run r = oci({"run", "--bundle", b, "--pid-file", pid_file, name});
    REQUIRE(r.code == 0);
    json sc = getppid_result(r.out);
    CHECK(sc["ret"] == kAnswer);
    CHECK(sc["errno"] == 0);
    auto states = agent.states();
    REQUIRE(states.size() == 1);
    check_state(states[0], name, b, name);
    CHECK(std::to_string(states[0]["pid"].get<int>()) == fs::read_file(pid_file).value_or(""));
    CHECK(agent.answered() == kPerProbe);
    CHECK(agent.bad_fds() == 0);

    cfg["process"]["noNewPrivileges"] = false;
    write_config(b, cfg);
    Run early = oci({"run", "--bundle", b, name + "2"});
    REQUIRE(early.code == 0);
    CHECK(getppid_result(early.out)["ret"] == kAnswer);
    states = agent.states(2);
    REQUIRE(states.size() == 2);
    CHECK(states[1]["state"]["id"] == name + "2");
    CHECK(agent.answered() == 2 * kPerProbe);
}

// create delivers the fd (the container waits on the exec fifo); start
// runs the probe, whose getppid the agent answers.
void check_create_start(const std::string& p) {
    (void)::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);  // the created container is reaped here
    Agent agent(agent_path(p + "cs"));
    json cfg;
    std::string name = p + "ncs";
    std::string b = notify_bundle(name, cfg, agent.path());
    std::string root = tmp_dir() + "/" + p + "nstate";
    std::string out = tmp_dir() + "/" + name + ".out";
    // The created container keeps create's stdout: a file, read after start.
    // A pipe would not reach EOF while the container holds it.
    std::string err = tmp_dir() + "/" + name + ".err";
    Run c = run({"sh", "-c", "exec \"$@\" </dev/null >\"$OUT\" 2>\"$ERR\"", "sh", bin("bock-oci"), "--root", root,
                 "create", "--bundle", b, name},
                std::nullopt, {"OUT=" + out, "ERR=" + err});
    INFO("create -> " << c.code << ": " << fs::read_file(err).value_or(""));
    REQUIRE(c.code == 0);
    auto states = agent.states();
    REQUIRE(states.size() == 1);  // delivered by create, before start
    check_state(states[0], name, b, name);
    Run st = oci({"--root", root, "state", name});
    REQUIRE(st.code == 0);
    json sj = json::parse(st.out);
    CHECK(sj["status"] == "created");
    CHECK(sj["pid"] == states[0]["pid"]);
    CHECK(agent.answered() == 0);

    REQUIRE(oci({"--root", root, "start", name}).code == 0);
    std::string report;
    for (int i = 0; i < 100 && report.find('}') == std::string::npos; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        report = fs::read_file(out).value_or("");
    }
    json sc = getppid_result(report);
    CHECK(sc["ret"] == kAnswer);
    CHECK(agent.answered() == kPerProbe);
    for (int i = 0; i < 100; ++i) {
        Run s = oci({"--root", root, "state", name});
        if (s.code == 0 && json::parse(s.out, nullptr, false).value("status", "") == "stopped") break;
        while (::waitpid(-1, nullptr, WNOHANG) > 0) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    CHECK(oci({"--root", root, "delete", "--force", name}).code == 0);
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
}

// exec into a running container: the new process gets the container's
// filter with a listener of its own, and the agent a state of its own.
void check_exec(const std::string& p) {
    (void)::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    Agent agent(agent_path(p + "ex"));
    json cfg;
    std::string name = p + "nex";
    std::string b = notify_bundle(name, cfg, agent.path());
    cfg["process"]["args"] = {"sleep", "100"};
    write_config(b, cfg);
    std::string root = tmp_dir() + "/" + p + "nexstate";
    std::string out = tmp_dir() + "/" + name + ".out", err = tmp_dir() + "/" + name + ".err";
    Run d = run({"sh", "-c", "exec \"$@\" </dev/null >\"$OUT\" 2>\"$ERR\"", "sh", bin("bock-oci"), "--root", root,
                 "run", "--detach", "--bundle", b, name},
                std::nullopt, {"OUT=" + out, "ERR=" + err});
    INFO("run --detach -> " << d.code << ": " << fs::read_file(err).value_or(""));
    REQUIRE(d.code == 0);
    Run st = oci({"--root", root, "state", name});
    REQUIRE(st.code == 0);
    int init = json::parse(st.out)["pid"];
    Run e = oci({"--root", root, "exec", name, "/bock-probe", "syscall", "getppid"});
    CHECK(e.code == 0);
    CHECK(getppid_result(e.out)["ret"] == kAnswer);
    auto states = agent.states(2);
    REQUIRE(states.size() == 2);
    INFO("exec's state: " << states[1].dump());
    CHECK(states[0]["state"]["status"] == "creating");
    CHECK(states[1]["state"]["status"] == "running");
    CHECK(states[1]["state"]["id"] == name);
    CHECK(states[1]["state"]["pid"] == init);
    CHECK(states[1]["pid"].get<int>() > 0);
    CHECK(states[1]["pid"] != init);
    CHECK(states[1]["metadata"] == "meta-" + name);
    CHECK(oci({"--root", root, "delete", "--force", name}).code == 0);
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
}

// No agent on listenerPath: one line naming the path, nothing left.
void check_missing(const std::string& p) {
    json cfg;
    std::string name = p + "nmiss";
    std::string missing = tmp_dir() + "/no-agent.sock";
    std::string b = notify_bundle(name, cfg, missing);
    std::string root = tmp_dir() + "/" + p + "nmstate";
    Run c = oci({"--root", root, "create", "--bundle", b, name});
    CHECK(c.code == 1);
    CHECK(lines(c.err).size() == 1);
    CHECK_THAT(c.err, Catch::Contains("linux.seccomp.listenerPath `" + missing + "`") &&
                          Catch::Contains("no such file or directory"));
    CHECK_FALSE(fs::exists(root + "/" + name));
    Run st = oci({"--root", root, "state", name});
    CHECK(st.code == 1);
    CHECK_THAT(st.err, Catch::Contains("does not exist"));

    // A foreground run fails as any setup failure does (125).
    Run r = oci({"run", "--bundle", b, name});
    CHECK(r.code == 125);
    CHECK(lines(r.err).size() == 1);
    CHECK_THAT(r.err, Catch::Contains("linux.seccomp.listenerPath `" + missing + "`"));
    CHECK(r.out.empty());  // the probe never ran

    // SCMP_ACT_NOTIFY without a listenerPath names the field.
    cfg["linux"]["seccomp"].erase("listenerPath");
    cfg["linux"]["seccomp"].erase("listenerMetadata");
    write_config(b, cfg);
    Run bad = oci({"run", "--bundle", b, name});
    CHECK(bad.code == 125);
    CHECK(lines(bad.err).size() == 1);
    CHECK_THAT(bad.err, Catch::Contains("linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY needs "
                                        "linux.seccomp.listenerPath"));
}

}  // namespace

void check_oci_notify_scenario(const std::string& p) {
    check_run(p);
    check_create_start(p);
    check_exec(p);
    check_missing(p);
}

}  // namespace bock::test
