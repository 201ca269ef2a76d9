#include "bock/runtime/spec.hpp"

#include <sys/mount.h>

#include <catch2/catch.hpp>

#include "plan.hpp"

using namespace bock::runtime;

namespace {

const char* kValid = R"({
  "ociVersion": "1.1.0",
  "process": {
    "terminal": false,
    "user": {"uid": 1000, "gid": 100, "additionalGids": [5, 6], "umask": 18},
    "args": ["sh", "-c", "true"],
    "env": ["PATH=/bin", "A=b"],
    "cwd": "/work",
    "noNewPrivileges": true,
    "capabilities": {"bounding": ["CAP_CHOWN"], "effective": ["CAP_CHOWN", "CAP_KILL"]},
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 512}]
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "box",
  "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
             {"destination": "/data", "type": "bind", "source": "/tmp", "options": ["rbind", "ro", "nosuid"]}],
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "network", "path": "/proc/1/ns/net"}],
    "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
    "devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438}],
    "maskedPaths": ["/proc/kcore"],
    "readonlyPaths": ["/proc/sys"],
    "sysctl": {"net.ipv4.ip_forward": "1"},
    "seccomp": {"defaultAction": "SCMP_ACT_ALLOW"}
  },
  "annotations": {"org.example": "yes"}
})";

std::string error_of(std::string_view text) {
    auto r = parse_spec(text, "config.json");
    REQUIRE_FALSE(r);
    return r.error().to_string();
}

}  // namespace

TEST_CASE("a valid config is read field by field", "[spec]") {
    auto r = parse_spec(kValid, "config.json");
    REQUIRE(r);
    const Spec& s = *r;
    CHECK(s.oci_version == "1.1.0");
    CHECK(s.process.args == std::vector<std::string>{"sh", "-c", "true"});
    CHECK(s.process.user.uid == 1000);
    CHECK(s.process.user.gid == 100);
    CHECK(s.process.user.additional_gids == std::vector<uint32_t>{5, 6});
    CHECK(s.process.user.umask == 18u);
    CHECK(s.process.cwd == "/work");
    CHECK(s.process.no_new_privileges);
    REQUIRE(s.process.cap_bounding);
    CHECK(*s.process.cap_bounding == std::vector<std::string>{"CAP_CHOWN"});
    CHECK_FALSE(s.process.cap_ambient);
    REQUIRE(s.process.rlimits.size() == 1);
    CHECK(s.process.rlimits[0].soft == 512);
    CHECK(s.root_readonly);
    CHECK(s.hostname == "box");
    REQUIRE(s.mounts.size() == 2);
    CHECK(s.mounts[1].options == std::vector<std::string>{"rbind", "ro", "nosuid"});
    CHECK(s.has_namespace("pid"));
    CHECK_FALSE(s.has_namespace("user"));
    CHECK(s.namespaces[2].path == "/proc/1/ns/net");
    REQUIRE(s.uid_mappings.size() == 1);
    CHECK(s.uid_mappings[0].host_id == 1000);
    REQUIRE(s.devices.size() == 1);
    CHECK(s.devices[0].file_mode == 0666u);
    CHECK(s.sysctl.at("net.ipv4.ip_forward") == "1");
    CHECK(s.annotations.at("org.example") == "yes");
    // Unknown fields survive a round trip.
    auto j = to_json(s);
    CHECK(j["linux"]["seccomp"]["defaultAction"] == "SCMP_ACT_ALLOW");
}

TEST_CASE("malformed JSON names the file and the position", "[spec]") {
    std::string e = error_of(R"({ "ociVersion": "1.1.0", "process": )");
    CHECK_THAT(e, Catch::StartsWith("config.json: invalid JSON: parse error at line 1"));
    CHECK(e.find('\n') == std::string::npos);
    CHECK_THAT(error_of("[1, 2]"), Catch::Contains("config.json: must be a JSON object"));
}

TEST_CASE("wrong types name the field path", "[spec]") {
    CHECK(error_of(R"({"process": {"args": "sh"}})") ==
          "config.json: process.args: must be a non-empty array of strings");
    CHECK(error_of(R"({"process": {"args": ["sh", 1]}})") ==
          "config.json: process.args: must be an array of strings");
    CHECK(error_of(R"({"process": {"args": ["sh"], "user": {"uid": "root"}}})") ==
          "config.json: process.user.uid: must be a non-negative integer");
    CHECK(error_of(R"({"process": {"args": ["sh"], "user": {"uid": -1}}})") ==
          "config.json: process.user.uid: must be a non-negative integer");
    CHECK(error_of(R"({"process": {"args": ["sh"], "terminal": "yes"}})") ==
          "config.json: process.terminal: must be true or false");
    CHECK(error_of(R"({"process": {"args": ["sh"]}, "mounts": [{"destination": "/x"}, {"destination": 3}]})") ==
          "config.json: mounts[1].destination: must be a string");
    CHECK(error_of(R"({"process": {"args": ["sh"]}, "linux": {"namespaces": [{"type": "pidd"}]}})") ==
          "config.json: linux.namespaces[0].type: unknown namespace type `pidd`");
    CHECK(error_of(R"({"process": {"args": ["sh"]}, "linux": {"sysctl": {"a": 1}}})") ==
          "config.json: linux.sysctl.a: must be a string");
    CHECK(error_of(R"({"process": {"args": ["sh"], "cwd": "relative"}})") ==
          "config.json: process.cwd: must be an absolute path");
}

TEST_CASE("a missing process or process.args is an error", "[spec]") {
    CHECK_THAT(error_of(R"({"ociVersion": "1.1.0"})"), Catch::StartsWith("config.json: process: missing"));
    CHECK(error_of(R"({"process": {"cwd": "/"}})") ==
          "config.json: process.args: must be a non-empty array of strings");
    CHECK(error_of(R"({"process": {"args": []}})") ==
          "config.json: process.args: must be a non-empty array of strings");
}

TEST_CASE("default_spec survives to_json and parse_spec", "[spec]") {
    for (bool rootless : {false, true}) {
        Spec d = default_spec(rootless);
        auto text = to_json(d).dump();
        auto r = parse_spec(text, "default");
        REQUIRE(r);
        CHECK(r->process.args == d.process.args);
        CHECK(r->process.env == d.process.env);
        CHECK(r->process.cap_bounding == d.process.cap_bounding);
        CHECK(r->process.cap_ambient == d.process.cap_ambient);
        REQUIRE(r->mounts.size() == d.mounts.size());
        for (size_t i = 0; i < d.mounts.size(); ++i) {
            CHECK(r->mounts[i].destination == d.mounts[i].destination);
            CHECK(r->mounts[i].options == d.mounts[i].options);
        }
        REQUIRE(r->namespaces.size() == 6);
        CHECK_FALSE(r->has_namespace("user"));
        CHECK(r->masked_paths == d.masked_paths);
        CHECK(r->readonly_paths == d.readonly_paths);
        CHECK(to_json(*r) == to_json(d));
        bool gid5 = text.find("gid=5") != std::string::npos;
        CHECK(gid5 == !rootless);
    }
}

TEST_CASE("mount options become flags, propagation and data", "[plan]") {
    MountPlan m;
    REQUIRE(apply_mount_options(m, {"nosuid", "strictatime", "mode=755", "size=65536k", "rprivate", "ro", "rw"}));
    CHECK(m.flags == (MS_NOSUID | MS_STRICTATIME));
    CHECK(m.propagation == (MS_PRIVATE | MS_REC));
    CHECK(m.data == "mode=755,size=65536k");
    MountPlan b;
    REQUIRE(apply_mount_options(b, {"rbind", "ro"}));
    CHECK(b.bind);
    CHECK(b.recursive);
    CHECK(b.flags == MS_RDONLY);
    MountPlan i;
    REQUIRE(apply_mount_options(i, {"bind", "ridmap", "nosymfollow"}));
    CHECK(i.idmap);
    CHECK(i.idmap_recursive);
    CHECK(i.flags == MS_NOSYMFOLLOW);
}

TEST_CASE("container paths are made relative and may not climb out", "[plan]") {
    CHECK(*relative_destination("/proc") == "proc");
    CHECK(*relative_destination("/a//b/./c/") == "a/b/c");
    CHECK_FALSE(relative_destination("/a/../../etc"));
    CHECK_FALSE(relative_destination("/"));
}

TEST_CASE("capability names resolve to a mask", "[plan]") {
    auto m = cap_mask({"CAP_CHOWN", "CAP_KILL"}, "process.capabilities.bounding");
    REQUIRE(m);
    CHECK(*m == ((1u << 0) | (1u << 5)));
    auto bad = cap_mask({"CAP_NOPE"}, "process.capabilities.bounding");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message() == "process.capabilities.bounding: unknown capability `CAP_NOPE`");
}
