// The bock-oci lifecycle (create, start, state, kill, delete, list, run
// --detach) shared by the root and rootless suites. Header-only: both
// suites include it from one test file each.
//
// The bundle's command writes /tmp/marker: with no tmpfs on /tmp that is
// <bundle>/rootfs/tmp/marker on the host, so the test sees whether the
// command has run. Every container a scenario makes is deleted with
// --force by a guard, even when an assertion fails; the test process is a
// subreaper, so the containers `create` leaves behind are its children
// and are reaped here, not left as zombies.
#pragma once

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "bock/common/fs.hpp"
#include "testlib.hpp"

namespace bock::test::lifecycle {

// bock-oci with --root, stdio redirected to files: a created container
// keeps the caller's stdio, so a pipe would not reach EOF until it exits.
class Oci {
public:
    explicit Oci(std::string prefix)
        : prefix_(std::move(prefix)), root_(tmp_dir() + "/" + prefix_ + "state") {
        (void)::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
    ~Oci() {
        for (const auto& id : ids_) (void)call({"delete", "--force", id});
        reap();
    }
    Oci(const Oci&) = delete;
    Oci& operator=(const Oci&) = delete;

    const std::string& root() const { return root_; }
    std::string id(const std::string& name) {
        ids_.push_back(prefix_ + name);
        return ids_.back();
    }

    Run call(const std::vector<std::string>& args, const std::vector<std::string>& globals = {}) {
        std::string out = tmp_dir() + "/oci.out", err = tmp_dir() + "/oci.err";
        std::vector<std::string> argv{"sh", "-c", "exec \"$@\" </dev/null >\"$OUT\" 2>\"$ERR\"", "sh",
                                      bin("bock-oci"), "--root", root_};
        argv.insert(argv.end(), globals.begin(), globals.end());
        argv.insert(argv.end(), args.begin(), args.end());
        Run r = run(argv, std::nullopt, {"OUT=" + out, "ERR=" + err});
        r.out = fs::read_file(out).value_or("");
        r.err = fs::read_file(err).value_or("");
        UNSCOPED_INFO("bock-oci " << fmt::format("{}", fmt::join(args, " ")) << " -> " << r.code
                                  << "\nstdout: " << r.out << "\nstderr: " << r.err);
        reap();
        return r;
    }

    nlohmann::json state(const std::string& id) {
        Run r = call({"state", id});
        REQUIRE(r.code == 0);
        auto j = nlohmann::json::parse(r.out, nullptr, false);
        REQUIRE(j.is_object());
        return j;
    }

    // Polls `state` until it shows `status` (5 s at most).
    bool wait_status(const std::string& id, const std::string& status) {
        for (int i = 0; i < 100; ++i) {
            if (state(id)["status"] == status) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
    }

private:
    static void reap() {
        while (::waitpid(-1, nullptr, WNOHANG) > 0) {
        }
    }
    std::string prefix_, root_;
    std::vector<std::string> ids_;
};

// A bundle whose command marks that it ran, then waits (TERM ends it).
inline std::string marker_bundle(const std::string& name) {
    std::string b = make_oci_bundle(name);
    auto text = fs::read_file(b + "/config.json");
    REQUIRE(text);
    auto cfg = nlohmann::json::parse(*text);
    cfg["process"]["args"] = {"sh", "-c", "trap 'exit 0' TERM; echo started > /tmp/marker; sleep 100 & wait"};
    cfg["process"]["terminal"] = false;
    cfg["annotations"] = {{"org.bock.test", name}};
    REQUIRE(fs::write_file(b + "/config.json", cfg.dump()));
    return b;
}

inline bool wait_file(const std::string& path) {
    for (int i = 0; i < 100; ++i) {
        if (fs::exists(path)) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

// create -> created, command not run -> start -> running, marker -> kill
// (default TERM) -> stopped -> delete -> does not exist.
inline void check_create_start(const std::string& p) {
    Oci oci(p);
    std::string b = marker_bundle(p + "life");
    std::string marker = b + "/rootfs/tmp/marker";
    std::string id = oci.id("life");
    std::string pid_file = tmp_dir() + "/" + p + "life.pid";

    Run c = oci.call({"create", "--bundle", b, "--pid-file", pid_file, id});
    REQUIRE(c.code == 0);
    auto st = oci.state(id);
    CHECK(st["status"] == "created");
    CHECK(st["id"] == id);
    CHECK(st["bundle"] == b);
    CHECK(st["ociVersion"] == "1.1.0");
    CHECK(st["annotations"]["org.bock.test"] == p + "life");
    REQUIRE(st["pid"].is_number());
    int pid = st["pid"];
    CHECK(pid > 0);
    CHECK(fs::read_file(pid_file).value_or("") == std::to_string(pid));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK_FALSE(fs::exists(marker));  // blocked before exec

    Run again = oci.call({"create", "--bundle", b, id});
    CHECK(again.code == 1);
    CHECK_THAT(again.err, Catch::Contains("already exists"));

    Run q = oci.call({"list", "-q"});
    CHECK(q.code == 0);
    CHECK(lines(q.out) == std::vector<std::string>{id});

    REQUIRE(oci.call({"start", id}).code == 0);
    CHECK(wait_file(marker));
    CHECK(oci.state(id)["status"] == "running");
    CHECK(oci.state(id)["pid"] == pid);
    Run twice = oci.call({"start", id});
    CHECK(twice.code == 1);
    CHECK_THAT(twice.err, Catch::Contains("not created"));

    Run refused = oci.call({"delete", id});
    CHECK(refused.code == 1);
    CHECK_THAT(refused.err, Catch::Contains("running"));

    CHECK(oci.call({"kill", id}).code == 0);  // SIGTERM, trapped: exit 0
    CHECK(oci.wait_status(id, "stopped"));
    CHECK(oci.state(id)["pid"] == 0);
    Run late = oci.call({"kill", id, "KILL"});
    CHECK(late.code == 1);
    CHECK_THAT(late.err, Catch::Contains("not running"));

    CHECK(oci.call({"delete", id}).code == 0);
    Run gone = oci.call({"state", id});
    CHECK(gone.code == 1);
    CHECK_THAT(gone.err, Catch::Contains("container `" + id + "` does not exist"));
}

// run --detach with a pid file, list, kill by name and by number, delete
// --force of a running container, delete of a created one, --all.
inline void check_detach_kill_delete(const std::string& p) {
    Oci oci(p);
    std::string b = marker_bundle(p + "det");
    std::string marker = b + "/rootfs/tmp/marker";
    std::string a = oci.id("a"), bb = oci.id("b"), c = oci.id("c"), d = oci.id("d");
    std::string pid_file = tmp_dir() + "/" + p + "det.pid";

    REQUIRE(oci.call({"run", "--detach", "--pid-file", pid_file, "--bundle", b, a}).code == 0);
    CHECK(wait_file(marker));
    auto st = oci.state(a);
    CHECK(st["status"] == "running");
    CHECK(fs::read_file(pid_file).value_or("") == std::to_string(st["pid"].get<int>()));

    Run table = oci.call({"list"});
    CHECK(table.code == 0);
    auto rows = lines(table.out);
    REQUIRE(rows.size() == 2);
    CHECK_THAT(rows[0], Catch::StartsWith("ID"));
    CHECK_THAT(rows[1], Catch::StartsWith(a) && Catch::Contains("running") && Catch::Contains(b));

    Run bad = oci.call({"kill", a, "NOPE"});
    CHECK(bad.code == 1);
    CHECK_THAT(bad.err, Catch::Contains("unknown signal `NOPE`"));
    CHECK(oci.call({"kill", a, "9"}).code == 0);
    CHECK(oci.wait_status(a, "stopped"));

    REQUIRE(oci.call({"run", "-d", "--bundle", b, bb}).code == 0);
    CHECK(oci.call({"kill", bb, "SIGKILL"}).code == 0);
    CHECK(oci.wait_status(bb, "stopped"));

    REQUIRE(oci.call({"run", "-d", "--bundle", b, c}).code == 0);
    CHECK(oci.call({"kill", "--all", c, "KILL"}).code == 0);
    CHECK(oci.wait_status(c, "stopped"));

    REQUIRE(oci.call({"run", "-d", "--bundle", b, d}).code == 0);
    Run json = oci.call({"list", "--format", "json"});
    CHECK(json.code == 0);
    auto all = nlohmann::json::parse(json.out, nullptr, false);
    REQUIRE(all.is_array());
    CHECK(all.size() == 4);
    CHECK(oci.call({"delete", "--force", d}).code == 0);
    CHECK(oci.call({"state", d}).code == 1);

    // A created container is deleted (killed) without --force, as runc does.
    REQUIRE(oci.call({"create", "--bundle", b, d}).code == 0);
    CHECK(oci.state(d)["status"] == "created");
    CHECK(oci.call({"delete", d}).code == 0);
    CHECK(oci.call({"state", d}).code == 1);

    for (const auto& id : {a, bb, c}) CHECK(oci.call({"delete", id}).code == 0);
    Run empty = oci.call({"list", "-q"});
    CHECK(empty.out.empty());
}

// Errors: exit 1 and one line; with --log-format json, JSON lines in --log.
inline void check_errors(const std::string& p) {
    Oci oci(p);
    Run missing = oci.call({"state", p + "missing"});
    CHECK(missing.code == 1);
    CHECK(lines(missing.err) == std::vector<std::string>{"bock-oci: error: container `" + p +
                                                          "missing` does not exist"});
    CHECK(oci.call({"kill", p + "missing"}).code == 1);
    CHECK(oci.call({"delete", p + "missing"}).code == 1);
    CHECK(oci.call({"start", p + "missing"}).code == 1);

    std::string log = tmp_dir() + "/" + p + "log.json";
    Run logged = oci.call({"state", p + "missing"}, {"--log", log, "--log-format", "json"});
    CHECK(logged.code == 1);
    auto text = fs::read_file(log);
    REQUIRE(text);
    auto ls = lines(*text);
    REQUIRE(ls.size() == 1);
    auto j = nlohmann::json::parse(ls[0], nullptr, false);
    REQUIRE(j.is_object());
    CHECK(j["level"] == "error");
    CHECK_THAT(j["msg"].get<std::string>(), Catch::Contains("does not exist"));
    CHECK(j["time"].is_string());

    Run sd = oci.call({"list"}, {"--systemd-cgroup"});
    CHECK(sd.code == 0);
    CHECK(lines(sd.err).size() == 1);
    CHECK_THAT(sd.err, Catch::Contains("cgroupfs"));

    Run badid = oci.call({"create", "--bundle", tmp_dir(), "../escape"});
    CHECK(badid.code == 1);
    CHECK_FALSE(fs::exists(tmp_dir() + "/escape"));

    // A bundle with process.terminal but no --console-socket is refused
    // clearly, nothing left behind.
    std::string b = make_oci_bundle(p + "tty");
    auto cfg = nlohmann::json::parse(fs::read_file(b + "/config.json").value_or("{}"));
    cfg["process"]["terminal"] = true;
    REQUIRE(fs::write_file(b + "/config.json", cfg.dump()));
    Run tty = oci.call({"create", "--bundle", b, oci.id("tty")});
    CHECK(tty.code == 1);
    CHECK_THAT(tty.err, Catch::Contains("process.terminal: a terminal needs --console-socket"));
    CHECK(oci.call({"state", p + "tty"}).code == 1);
}

}  // namespace bock::test::lifecycle
