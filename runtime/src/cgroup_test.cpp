// linux.resources parsing, cgroupsPath resolution, and the cgroup v2
// writer against a fake cgroup filesystem (BOCK_CGROUP_ROOT): a directory
// tree with the interface files a real cgroup2 mount would have.
#include <stdlib.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "bock/runtime/cgroup.hpp"
#include "cgroup_impl.hpp"
#include "cgroup_setup.hpp"

using namespace bock;
using namespace bock::runtime;
using nlohmann::json;

namespace {

Resources parse_ok(const char* text) {
    auto r = parse_resources(json::parse(text), "linux.resources");
    INFO((r ? std::string() : r.error().to_string()));
    REQUIRE(r);
    return *r;
}

std::string parse_error(const char* text) {
    auto r = parse_resources(json::parse(text), "linux.resources");
    REQUIRE_FALSE(r);
    return r.error().to_string();
}

const char* const kV2Files[] = {"cgroup.procs", "cgroup.freeze", "cgroup.events", "cgroup.subtree_control",
                                "cgroup.controllers", "cpu.max", "cpu.weight", "cpu.idle", "cpuset.cpus",
                                "cpuset.mems", "memory.max", "memory.low", "memory.swap.max", "pids.max",
                                "io.max", "io.weight", "hugetlb.2MB.max", "memory.oom.group"};

// A fake cgroup2 directory: every interface file, empty.
void fake_v2_dir(const std::string& dir, const std::string& controllers) {
    REQUIRE(fs::mkdir_p(dir));
    for (const char* f : kV2Files) REQUIRE(fs::write_file(dir + "/" + f, ""));
    REQUIRE(fs::write_file(dir + "/cgroup.controllers", controllers));
    REQUIRE(fs::write_file(dir + "/cgroup.events", "populated 0\nfrozen 0\n"));
}

std::string read(const std::string& path) { return fs::read_file(path).value_or("<missing>"); }

struct FakeRoot {
    std::string dir;
    FakeRoot() {
        auto d = fs::make_temp_dir("/tmp", "bock-cgroup-test-");
        REQUIRE(d);
        dir = *d;
        fake_v2_dir(dir, "cpu memory pids io");
        ::setenv("BOCK_CGROUP_ROOT", dir.c_str(), 1);
    }
    ~FakeRoot() {
        ::unsetenv("BOCK_CGROUP_ROOT");
        (void)fs::remove_all(dir);
    }
};

}  // namespace

TEST_CASE("linux.resources: every group parses", "[cgroup]") {
    Resources r = parse_ok(R"({
        "memory": {"limit": 33554432, "reservation": 1048576, "swap": 67108864, "swappiness": 10,
                   "disableOOMKiller": true},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0-1", "mems": "0", "idle": 0,
                "realtimeRuntime": 950000, "realtimePeriod": 1000000},
        "pids": {"limit": 20},
        "blockIO": {"weight": 500, "leafWeight": 300,
                    "weightDevice": [{"major": 8, "minor": 0, "weight": 600}],
                    "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
                    "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 100}]},
        "hugepageLimits": [{"pageSize": "2MB", "limit": 209715200}],
        "devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"}],
        "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 500}]},
        "unified": {"memory.high": "50000000"}
    })");
    REQUIRE(r.memory);
    CHECK(r.memory->limit == 33554432);
    CHECK(r.memory->swap == 67108864);
    CHECK(r.memory->disable_oom_killer == true);
    REQUIRE(r.cpu);
    CHECK(r.cpu->quota == 50000);
    CHECK(r.cpu->cpus == "0-1");
    CHECK(r.pids_limit == 20);
    REQUIRE(r.block_io);
    CHECK(r.block_io->weight_device.size() == 1);
    CHECK(r.block_io->read_bps.at(0).rate == 1048576);
    CHECK(r.block_io->write_iops.at(0).rate == 100);
    CHECK(r.hugepage_limits.at(0).page_size == "2MB");
    REQUIRE(r.devices.size() == 2);
    CHECK(r.devices[0].type == "a");
    CHECK_FALSE(r.devices[0].major);
    CHECK(cg::device_line(r.devices[1]) == "c 1:3 rw");
    CHECK(r.network->class_id == 1048577u);
    CHECK(r.network->priorities.at(0).first == "eth0");
    CHECK(r.unified.at("memory.high") == "50000000");
    auto limits = requested_limits(r);
    CHECK(std::find(limits.begin(), limits.end(), "memory.limit") != limits.end());
    CHECK(std::find(limits.begin(), limits.end(), "pids.limit") != limits.end());
    CHECK(std::find(limits.begin(), limits.end(), "unified.memory.high") != limits.end());
}

TEST_CASE("linux.resources: errors name the field", "[cgroup]") {
    CHECK_THAT(parse_error(R"({"memory": {"limit": "32M"}})"),
               Catch::Contains("linux.resources.memory.limit: must be an integer"));
    CHECK_THAT(parse_error(R"({"pids": {}})"), Catch::Contains("linux.resources.pids.limit: missing"));
    CHECK_THAT(parse_error(R"({"cpu": {"shares": -1}})"),
               Catch::Contains("linux.resources.cpu.shares: must be a non-negative integer"));
    CHECK_THAT(parse_error(R"({"devices": [{"allow": true, "type": "x"}]})"),
               Catch::Contains("linux.resources.devices[0].type"));
    CHECK_THAT(parse_error(R"({"devices": [{"allow": true, "access": "rwx"}]})"),
               Catch::Contains("linux.resources.devices[0].access"));
    CHECK_THAT(parse_error(R"({"blockIO": {"throttleReadBpsDevice": [{"major": 8, "rate": 1}]}})"),
               Catch::Contains("linux.resources.blockIO.throttleReadBpsDevice[0]: needs major and minor"));
    CHECK_THAT(parse_error(R"({"unified": {"../x": "1"}})"), Catch::Contains("not a cgroup file name"));
    CHECK_THAT(parse_error(R"({"memory": {"limit": 100, "swap": 50}})"), Catch::Contains("memory.swap"));
    CHECK(requested_limits(parse_ok("{}")).empty());
}

TEST_CASE("linux.cgroupsPath resolves as runc's cgroupfs driver", "[cgroup]") {
    CHECK(*resolve_cgroups_path("", "/user.slice", "c1") == "/bock/c1");
    CHECK(*resolve_cgroups_path("/libpod_parent/libpod-c1", "/x", "c1") == "/libpod_parent/libpod-c1");
    CHECK(*resolve_cgroups_path("mine/c1", "/user.slice", "c1") == "/user.slice/mine/c1");
    CHECK(*resolve_cgroups_path("mine", "/", "c1") == "/mine");
    CHECK(*resolve_cgroups_path("machine.slice:libpod:abc", "/", "abc") == "/machine.slice/libpod-abc.scope");
    CHECK(*resolve_cgroups_path("user-1000.slice:crio:x", "/", "x") == "/user.slice/user-1000.slice/crio-x.scope");
    CHECK(*resolve_cgroups_path(":bock:x", "/", "x") == "/system.slice/bock-x.scope");
    CHECK_FALSE(resolve_cgroups_path("/a/../b", "/", "x"));
    CHECK_FALSE(resolve_cgroups_path("nota:slice:x", "/", "x"));
}

TEST_CASE("cgroup v2: conversions as runc", "[cgroup]") {
    CHECK(cg::shares_to_weight(1024) == 39);
    CHECK(cg::shares_to_weight(2) == 1);
    CHECK(cg::shares_to_weight(262144) == 10000);
    CHECK(cg::blkio_weight_to_io_weight(10) == 1);
    CHECK(cg::blkio_weight_to_io_weight(1000) == 10000);
}

TEST_CASE("cgroup v2: the writer against a fake cgroup tree", "[cgroup]") {
    FakeRoot root;
    auto layout = detect_cgroups();
    REQUIRE(layout);
    REQUIRE(layout->mode == CgroupMode::v2);
    CHECK(layout->controllers == std::vector<std::string>{"cpu", "memory", "pids", "io"});

    // A fake parent exists with its files (the real kernel makes them on mkdir).
    fake_v2_dir(root.dir + "/bock", "cpu memory pids io");
    fake_v2_dir(root.dir + "/bock/c1", "cpu memory pids io");
    std::string leaf = root.dir + "/bock/c1";
    {
        auto made = Cgroup::create(*layout, "/bock/c1");
        REQUIRE(made);
        CHECK(made->paths().mode == CgroupMode::v2);
        CHECK(made->paths().unified == leaf);
        // Each ancestor delegates its controllers (the fake keeps the last write).
        CHECK(read(root.dir + "/cgroup.subtree_control") == "+io");
        CHECK(read(root.dir + "/bock/cgroup.subtree_control") == "+io");

        Resources r = parse_ok(R"({
            "memory": {"limit": 33554432, "reservation": 1048576, "swap": 67108864, "swappiness": 10},
            "cpu": {"shares": 1024, "quota": 50000, "period": 100000, "cpus": "0"},
            "pids": {"limit": 20},
            "blockIO": {"weight": 1000, "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}]},
            "hugepageLimits": [{"pageSize": "2MB", "limit": 2097152}, {"pageSize": "1GB", "limit": 0}],
            "devices": [{"allow": false, "access": "rwm"}],
            "unified": {"memory.oom.group": "1"}
        })");
        std::vector<std::string> warnings;
        auto applied = cgroup_apply(made->paths(), r, warnings);
        INFO((applied ? std::string() : applied.error().to_string()));
        REQUIRE(applied);
        CHECK(read(leaf + "/memory.max") == "33554432");
        CHECK(read(leaf + "/memory.low") == "1048576");
        CHECK(read(leaf + "/memory.swap.max") == "33554432");  // swap alone: 64M - 32M
        CHECK(read(leaf + "/cpu.weight") == "39");
        CHECK(read(leaf + "/cpu.max") == "50000 100000");
        CHECK(read(leaf + "/cpuset.cpus") == "0");
        CHECK(read(leaf + "/pids.max") == "20");
        CHECK(read(leaf + "/io.weight") == "default 10000");
        CHECK(read(leaf + "/io.max") == "8:0 rbps=1048576");
        CHECK(read(leaf + "/hugetlb.2MB.max") == "2097152");
        CHECK(read(leaf + "/memory.oom.group") == "1");
        auto has = [&](std::string_view what) {
            return std::any_of(warnings.begin(), warnings.end(),
                               [&](const std::string& w) { return w.find(what) != std::string::npos; });
        };
        CHECK(has("memory.swappiness"));
        CHECK(has("hugepageLimits 1GB"));
        CHECK(has("device rules are not enforced on cgroup v2"));

        // Unlimited values are "max".
        Resources unlimited = parse_ok(R"({"memory": {"limit": -1}, "pids": {"limit": 0}, "cpu": {"quota": -1}})");
        REQUIRE(cgroup_apply(made->paths(), unlimited, warnings));
        CHECK(read(leaf + "/memory.max") == "max");
        CHECK(read(leaf + "/pids.max") == "max");
        CHECK(read(leaf + "/cpu.max") == "max 100000");

        // A file the kernel would not have is an error naming it.
        Resources bad = parse_ok(R"({"unified": {"nope.file": "1"}})");
        auto e = cgroup_apply(made->paths(), bad, warnings);
        REQUIRE_FALSE(e);
        CHECK_THAT(e.error().to_string(), Catch::Contains("nope.file"));

        REQUIRE(cgroup_add_process(made->paths(), 4242));
        CHECK(read(leaf + "/cgroup.procs") == "4242");
        auto pids = cgroup_pids(made->paths());
        REQUIRE(pids);
        CHECK(*pids == std::vector<pid_t>{4242});

        // Freeze: the fake kernel "reports" frozen through cgroup.events.
        REQUIRE(fs::write_file(leaf + "/cgroup.events", "populated 1\nfrozen 1\n"));
        REQUIRE(cgroup_freeze(made->paths(), true));
        CHECK(read(leaf + "/cgroup.freeze") == "1");
        CHECK(cgroup_frozen(made->paths()));

        REQUIRE(fs::write_file(leaf + "/pids.current", "3\n"));
        REQUIRE(fs::write_file(leaf + "/memory.current", "1000\n"));
        auto stats = cgroup_stats(made->paths());
        CHECK(stats["pids"]["current"] == 3);
        CHECK(stats["memory"]["usage"]["usage"] == 1000);

        auto j = made->paths().to_json();
        auto back = CgroupPaths::from_json(j);
        CHECK(back.mode == CgroupMode::v2);
        CHECK(back.unified == leaf);
        CHECK(back.path == "/bock/c1");
    }
}

TEST_CASE("cgroup: a new directory is removed unless released", "[cgroup]") {
    FakeRoot root;
    auto layout = detect_cgroups();
    REQUIRE(layout);
    {
        auto made = Cgroup::create(*layout, "/bock2/c2");
        REQUIRE(made);
        CHECK(fs::is_dir(root.dir + "/bock2/c2"));
    }
    CHECK_FALSE(fs::exists(root.dir + "/bock2"));  // both levels made here are gone
    {
        auto made = Cgroup::create(*layout, "/bock2/c3");
        REQUIRE(made);
        made->release();
    }
    CHECK(fs::is_dir(root.dir + "/bock2/c3"));
    CgroupPaths p;
    p.mode = CgroupMode::v2;
    p.unified = root.dir + "/bock2/c3";
    REQUIRE(cgroup_remove(p));
    CHECK_FALSE(fs::exists(root.dir + "/bock2/c3"));
}

TEST_CASE("cgroup v1: a fake tree with one hierarchy per directory", "[cgroup]") {
    auto d = fs::make_temp_dir("/tmp", "bock-cgroup-v1-");
    REQUIRE(d);
    std::string root = *d;
    for (const char* h : {"memory", "pids", "cpuset", "devices"}) REQUIRE(fs::mkdir_p(root + "/" + h));
    REQUIRE(fs::write_file(root + "/cpuset/cpuset.cpus", "0-1\n"));
    REQUIRE(fs::write_file(root + "/cpuset/cpuset.mems", "0\n"));
    ::setenv("BOCK_CGROUP_ROOT", root.c_str(), 1);
    auto layout = detect_cgroups();
    ::unsetenv("BOCK_CGROUP_ROOT");
    REQUIRE(layout);
    REQUIRE(layout->mode == CgroupMode::v1);
    REQUIRE(layout->v1.size() == 4);
    {
        // The kernel makes the files on mkdir; the fake cannot, so only
        // cpuset's copy of the parent's values is checked (it creates them).
        std::string cs = root + "/cpuset/bock/c1";
        REQUIRE(fs::mkdir_p(cs));
        REQUIRE(fs::write_file(root + "/cpuset/bock/cpuset.cpus", "0-1"));
        REQUIRE(fs::write_file(root + "/cpuset/bock/cpuset.mems", "0"));
        auto made = Cgroup::create(*layout, "/bock/c1");
        REQUIRE(made);
        CHECK(made->paths().dir_for("memory") == root + "/memory/bock/c1");
        CHECK(made->paths().dir_for("pids") == root + "/pids/bock/c1");
        CHECK(made->paths().dir_for("hugetlb").empty());
        Resources r = parse_ok(R"({"hugepageLimits": [{"pageSize": "2MB", "limit": 1}], "network": {"classID": 1}})");
        std::vector<std::string> warnings;
        REQUIRE(cgroup_apply(made->paths(), r, warnings));
        REQUIRE(warnings.size() == 2);
        CHECK_THAT(warnings[0], Catch::Contains("no hugetlb cgroup controller"));
        CHECK_THAT(warnings[1], Catch::Contains("no net_cls cgroup controller"));
    }
    CHECK_FALSE(fs::exists(root + "/memory/bock"));
    auto rules = cg::v1_device_rules({DeviceRule{false, "a", {}, {}, "rwm"}, DeviceRule{true, "c", 10, 229, "rwm"}});
    REQUIRE(rules.size() > 3);
    CHECK(rules[0].line == "a");
    CHECK_FALSE(rules[0].allow);
    CHECK(rules[1].line == "c 10:229 rwm");
    CHECK(rules[1].allow);
    (void)fs::remove_all(root);
}

TEST_CASE("cgroup: the plan unshares the cgroup namespace late and expands v1 cgroup mounts", "[cgroup]") {
    Plan plan;
    plan.clone_flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWCGROUP;
    MountPlan m;
    m.kind = MountPlan::Kind::cgroup;
    m.source = m.fstype = "cgroup";
    m.destination = "/sys/fs/cgroup";
    m.rel_dest = "sys/fs/cgroup";
    m.flags = MS_RDONLY | MS_NOSUID;
    plan.mounts.push_back(m);

    CgroupPaths cg;
    cg.mode = CgroupMode::v1;
    cg.v1 = {{"memory", "/sys/fs/cgroup/memory/bock/c1"}, {"pids", "/sys/fs/cgroup/pids/bock/c1"}};
    plan_cgroup(plan, cg);
    CHECK_FALSE(plan.clone_flags & CLONE_NEWCGROUP);
    CHECK(plan.unshare_cgroupns);
    CHECK(plan.wait_cgroup);
    REQUIRE(plan.mounts.size() == 3);
    CHECK(plan.mounts[0].fstype == "tmpfs");
    CHECK(plan.mounts[0].rel_dest == "sys/fs/cgroup");
    CHECK(plan.mounts[1].bind);
    CHECK(plan.mounts[1].source == "/sys/fs/cgroup/memory/bock/c1");
    CHECK(plan.mounts[1].rel_dest == "sys/fs/cgroup/memory");
    CHECK(plan.mounts[1].flags & MS_RDONLY);
    CHECK(plan.mounts[2].rel_dest == "sys/fs/cgroup/pids");

    // No cgroup (rootless): nothing to wait for, the mount is left to be tried.
    Plan rootless;
    rootless.clone_flags = CLONE_NEWCGROUP;
    rootless.mounts.push_back(m);
    plan_cgroup(rootless, CgroupPaths{});
    CHECK_FALSE(rootless.wait_cgroup);
    CHECK(rootless.unshare_cgroupns);
    CHECK(rootless.mounts.size() == 1);

    // v2: one cgroup2 mount.
    Plan v2;
    v2.mounts.push_back(m);
    CgroupPaths u;
    u.mode = CgroupMode::v2;
    u.unified = "/sys/fs/cgroup/bock/c1";
    plan_cgroup(v2, u);
    REQUIRE(v2.mounts.size() == 1);
    CHECK(v2.mounts[0].fstype == "cgroup2");
}
