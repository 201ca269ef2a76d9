// bock-oci's cgroups as root, for real (this machine: cgroup v1 hybrid).
// Every container's cgroup goes under /bock-test/<id> in each v1
// hierarchy (linux.cgroupsPath), never near the session's own cgroup; every
// container is deleted with --force by the Oci guard, and each test checks
// its cgroup directories are gone. Waits are bounded (timeout(1), the
// guard's polling).
#include <unistd.h>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "oci_lifecycle.hpp"

using namespace bock;
using namespace bock::test;
using namespace bock::test::lifecycle;
using nlohmann::json;

namespace {

const char* const kHierarchies[] = {"memory", "pids", "cpu", "freezer", "devices", "cpuset", "blkio"};

void require_v1() {
    if (!fs::exists("/sys/fs/cgroup/memory/memory.limit_in_bytes") || !fs::exists("/sys/fs/cgroup/pids/cgroup.procs"))
        skip("needs cgroup v1 memory and pids hierarchies at /sys/fs/cgroup (this host's layout)");
}

std::string cg_dir(const std::string& hierarchy, const std::string& id) {
    return "/sys/fs/cgroup/" + hierarchy + "/bock-test/" + id;
}

bool no_cgroup_left(const std::string& id) {
    for (const char* h : kHierarchies)
        if (fs::exists(cg_dir(h, id))) return false;
    return true;
}

// A busybox bundle with the cgroup mount, linux.resources and its own cgroupsPath.
std::string cgroup_bundle(const std::string& name, const std::string& id, const std::vector<std::string>& args,
                          const json& resources) {
    std::string b = make_oci_bundle(name);
    for (const char* a : {"grep", "tail"}) REQUIRE(::symlink("busybox", (b + "/rootfs/bin/" + a).c_str()) == 0);
    auto cfg = json::parse(fs::read_file(b + "/config.json").value_or("{}"));
    cfg["process"]["args"] = args;
    cfg["process"]["terminal"] = false;
    cfg["mounts"].push_back({{"destination", "/sys/fs/cgroup"},
                             {"type", "cgroup"},
                             {"source", "cgroup"},
                             {"options", {"nosuid", "noexec", "nodev", "relatime", "ro"}}});
    cfg["linux"]["resources"] = resources;
    cfg["linux"]["cgroupsPath"] = "/bock-test/" + id;
    REQUIRE(fs::write_file(b + "/config.json", cfg.dump()));
    return b;
}

// `bock-oci run` in the foreground, bounded by timeout(1).
Run run_bounded(const std::string& bundle, const std::string& id) {
    return run({"timeout", "60", bin("bock-oci"), "--root", tmp_dir() + "/fgstate", "run", "--bundle", bundle, id});
}

}  // namespace

TEST_CASE("root: a memory limit OOM-kills the container's process", "[root-oci-cgroup]") {
    require_v1();
    std::string id = "bock-cg-oom";
    // busybox tail keeps the last lines of /dev/zero, which has no newline: it grows until killed.
    std::string b = cgroup_bundle("oom", id, {"/bin/busybox", "tail", "/dev/zero"},
                                  {{"memory", {{"limit", 32 << 20}, {"swap", 32 << 20}}}});
    Run r = run_bounded(b, id);
    INFO(r.err);
    CHECK(r.code == 137);  // 128 + SIGKILL, from the OOM killer
    CHECK(no_cgroup_left(id));
}

TEST_CASE("root: limits are visible inside through the cgroup mount", "[root-oci-cgroup]") {
    require_v1();
    std::string id = "bock-cg-see";
    std::string b = cgroup_bundle("see", id,
                                  {"sh", "-c",
                                   "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; "
                                   "cat /proc/self/cgroup | grep memory"},
                                  {{"memory", {{"limit", 64 << 20}}}, {"pids", {{"limit", 20}}}});
    Run r = run_bounded(b, id);
    INFO(r.err);
    CHECK(r.code == 0);
    // The cgroup namespace is rooted at the container's cgroup.
    CHECK(lines(r.out) == std::vector<std::string>{std::to_string(64 << 20), "20", "4:memory:/"});
    CHECK(no_cgroup_left(id));
}

TEST_CASE("root: pids.limit=20 makes the 21st process fail with EAGAIN", "[root-oci-cgroup]") {
    require_v1();
    std::string id = "bock-cg-pids";
    // sh, a subshell and 18 background sleeps make 20 processes: the next
    // fork fails with EAGAIN and busybox's subshell gives up, saying so.
    // Then 19 are left, and cat makes the 20th.
    std::string script =
        "(n=0; while [ $n -lt 25 ]; do sleep 30 & n=$((n+1)); done) 2>/tmp/err; "
        "echo started; cat /sys/fs/cgroup/pids/pids.current; grep -c 'Resource temporarily unavailable' /tmp/err";
    std::string b = cgroup_bundle("pids", id, {"sh", "-c", script}, {{"pids", {{"limit", 20}}}});
    Run r = run_bounded(b, id);
    INFO(r.out << r.err);
    REQUIRE(r.code == 0);
    auto out = lines(r.out);
    REQUIRE(out.size() == 3);
    CHECK(out[0] == "started");
    CHECK(out[1] == "20");  // the limit reached, not passed
    CHECK(std::stoi(out[2]) >= 1);  // fork: Resource temporarily unavailable (EAGAIN)
    CHECK(no_cgroup_left(id));
}

TEST_CASE("root: pause, resume, update, ps, events, delete", "[root-oci-cgroup]") {
    require_v1();
    Oci oci("cg-");
    std::string id = oci.id("life");
    std::string b = cgroup_bundle("life", id, {"sleep", "300"}, {{"memory", {{"limit", 64 << 20}}}});
    REQUIRE(oci.call({"run", "--detach", "--bundle", b, id}).code == 0);
    auto st = oci.state(id);
    REQUIRE(st["status"] == "running");
    int pid = st["pid"];
    CHECK(fs::read_file(cg_dir("memory", id) + "/cgroup.procs").value_or("") == std::to_string(pid) + "\n");

    REQUIRE(oci.call({"pause", id}).code == 0);
    CHECK(oci.state(id)["status"] == "paused");
    CHECK(fs::read_file(cg_dir("freezer", id) + "/freezer.state").value_or("") == "FROZEN\n");
    CHECK(oci.call({"resume", id}).code == 0);
    CHECK(oci.state(id)["status"] == "running");
    Run again = oci.call({"resume", id});
    CHECK(again.code == 1);
    CHECK_THAT(again.err, Catch::Contains("not paused"));

    REQUIRE(oci.call({"update", "--memory", "128m", id}).code == 0);
    CHECK(fs::read_file(cg_dir("memory", id) + "/memory.limit_in_bytes").value_or("") ==
          std::to_string(128 << 20) + "\n");
    std::string res = tmp_dir() + "/res.json";
    REQUIRE(fs::write_file(res, R"({"pids": {"limit": 50}, "memory": {"limit": 100663296}})"));
    REQUIRE(oci.call({"update", "--resources", res, id}).code == 0);
    CHECK(fs::read_file(cg_dir("pids", id) + "/pids.max").value_or("") == "50\n");
    CHECK(fs::read_file(cg_dir("memory", id) + "/memory.limit_in_bytes").value_or("") == "100663296\n");
    // containerd and podman pass the resources on stdin.
    Run in = run({bin("bock-oci"), "--root", oci.root(), "update", "--resources", "-", id},
                 std::string(R"({"pids": {"limit": 60}})"));
    CHECK(in.code == 0);
    CHECK(fs::read_file(cg_dir("pids", id) + "/pids.max").value_or("") == "60\n");
    Run badres = oci.call({"update", "--memory", "lots", id});
    CHECK(badres.code == 1);
    CHECK_THAT(badres.err, Catch::Contains("--memory `lots`"));

    Run ps = oci.call({"ps", "--format", "json", id});
    REQUIRE(ps.code == 0);
    CHECK(json::parse(ps.out, nullptr, false) == json::array({pid}));
    Run table = oci.call({"ps", id});
    CHECK(table.code == 0);
    CHECK_THAT(table.out, Catch::Contains("sleep 300"));

    Run ev = oci.call({"events", "--stats", id});
    REQUIRE(ev.code == 0);
    auto j = json::parse(ev.out, nullptr, false);
    REQUIRE(j.is_object());
    CHECK(j["type"] == "stats");
    CHECK(j["id"] == id);
    CHECK(j["data"]["pids"]["current"] == 1);
    CHECK(j["data"]["memory"]["usage"]["limit"] == 100663296);
    CHECK(j["data"]["cpu"]["usage"]["total"].is_number());

    // A paused container is killed and thawed by delete --force.
    REQUIRE(oci.call({"pause", id}).code == 0);
    CHECK(oci.call({"delete", id}).code == 1);
    CHECK(oci.call({"delete", "--force", id}).code == 0);
    CHECK(oci.call({"state", id}).code == 1);
    CHECK(no_cgroup_left(id));
}

TEST_CASE("root: a failed create leaves no cgroup behind", "[root-oci-cgroup]") {
    require_v1();
    Oci oci("cg-");
    std::string id = oci.id("fail");
    // The child fails after it joined its cgroup (a sysctl the kernel lacks).
    std::string b = cgroup_bundle("fail", id, {"true"}, {{"pids", {{"limit", 20}}}});
    auto cfg = json::parse(fs::read_file(b + "/config.json").value_or("{}"));
    cfg["linux"]["sysctl"] = {{"kernel.bock_no_such_sysctl", "1"}};
    REQUIRE(fs::write_file(b + "/config.json", cfg.dump()));
    Run bad = oci.call({"create", "--bundle", b, id});
    CHECK(bad.code == 1);
    CHECK_THAT(bad.err, Catch::Contains("kernel.bock_no_such_sysctl"));
    CHECK(no_cgroup_left(id));
    // A limit the kernel refuses: an error naming the file, nothing left.
    std::string b2 = cgroup_bundle("fail2", id, {"true"}, {{"cpu", {{"cpus", "999"}}}});
    Run refused = oci.call({"create", "--bundle", b2, id});
    CHECK(refused.code == 1);
    CHECK_THAT(refused.err, Catch::Contains("cpuset.cpus"));
    CHECK(no_cgroup_left(id));
}
