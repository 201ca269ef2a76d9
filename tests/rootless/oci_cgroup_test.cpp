// bock-oci's cgroups rootless on a host without delegation (this machine:
// cgroup v1): a bundle asking for limits still runs, with exactly one
// warning naming each limit not enforced and how to get delegation; a
// bundle asking for none runs without a word; pause needs a cgroup.
#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "oci_lifecycle.hpp"

using namespace bock;
using namespace bock::test;
using namespace bock::test::lifecycle;
using nlohmann::json;

namespace {

bool delegated_v2() {
    // A v2 host whose systemd delegates to users would enforce the limits:
    // this test is about the host that does not.
    return fs::exists("/sys/fs/cgroup/cgroup.controllers") && !fs::exists("/sys/fs/cgroup/memory");
}

std::string bundle(const std::string& name, const json& resources) {
    std::string b = make_oci_bundle(name);
    auto cfg = json::parse(fs::read_file(b + "/config.json").value_or("{}"));
    cfg["process"]["args"] = {"sh", "-c", "echo ran"};
    cfg["process"]["terminal"] = false;
    if (!resources.is_null()) cfg["linux"]["resources"] = resources;
    REQUIRE(fs::write_file(b + "/config.json", cfg.dump()));
    return b;
}

}  // namespace

TEST_CASE("rootless: limits without delegation: the container runs, one warning names them", "[oci-cgroup]") {
    if (delegated_v2()) skip("the host has cgroup v2: limits may be enforced with delegation");
    std::string b = bundle("cglimits", {{"memory", {{"limit", 64 << 20}}}, {"pids", {{"limit", 20}}},
                                        {"cpu", {{"shares", 512}}}});
    Run r = run({"timeout", "60", bin("bock-oci"), "--root", tmp_dir() + "/state", "run", "--bundle", b, "cg-rl"});
    CHECK(r.code == 0);
    CHECK(r.out == "ran\n");
    auto warnings = lines(r.err);
    REQUIRE(warnings.size() == 1);
    CHECK_THAT(warnings[0], Catch::Contains("warning"));
    CHECK_THAT(warnings[0], Catch::Contains("memory.limit, cpu.shares, pids.limit"));
    CHECK_THAT(warnings[0], Catch::Contains("cgroup v2") && Catch::Contains("Delegate=yes"));

    std::string quiet = bundle("cgquiet", nullptr);
    Run q = run({"timeout", "60", bin("bock-oci"), "--root", tmp_dir() + "/state", "run", "--bundle", quiet, "cg-q"});
    CHECK(q.code == 0);
    CHECK(q.out == "ran\n");
    CHECK(q.err.empty());
}

TEST_CASE("rootless: without a cgroup, pause is refused clearly and ps reads the pid namespace", "[oci-cgroup]") {
    if (delegated_v2()) skip("the host has cgroup v2: a delegated cgroup may exist");
    Oci oci("rl-cg-");
    std::string b = marker_bundle("rlcg");
    std::string id = oci.id("p");
    REQUIRE(oci.call({"run", "--detach", "--bundle", b, id}).code == 0);
    REQUIRE(wait_file(b + "/rootfs/tmp/marker"));
    Run p = oci.call({"pause", id});
    CHECK(p.code == 1);
    CHECK_THAT(p.err, Catch::Contains("no cgroup"));
    CHECK(oci.state(id)["status"] == "running");
    Run ps = oci.call({"ps", "--format", "json", id});
    REQUIRE(ps.code == 0);
    auto pids = json::parse(ps.out, nullptr, false);
    REQUIRE(pids.is_array());
    CHECK(pids.size() == 2);  // sh and its sleep
    CHECK(std::find(pids.begin(), pids.end(), oci.state(id)["pid"]) != pids.end());
    Run upd = oci.call({"update", "--memory", "64m", id});
    CHECK(upd.code == 1);
    CHECK_THAT(upd.err, Catch::Contains("has no cgroup"));
    CHECK(oci.call({"delete", "--force", id}).code == 0);
}
