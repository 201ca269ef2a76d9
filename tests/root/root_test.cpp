// The same commands as root: root mode, no user namespace, no session.
#include <dirent.h>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "testlib.hpp"

using namespace bock::test;

TEST_CASE("root: run, exit codes, identity", "[root-run]") {
    auto r = cli({"run", "--rm", "busybox", "echo", "hello"});
    CHECK(r.code == 0);
    CHECK(r.out == "hello\n");
    CHECK(cli({"run", "--rm", "busybox", "sh", "-c", "exit 7"}).code == 7);
    CHECK(cli({"run", "--rm", "busybox", "no-such-command"}).code == 127);

    auto j = probe({"--hostname", "rooted"});
    CHECK(j["uid"] == 0);
    CHECK(j["pid"] == 1);
    CHECK(j["hostname"] == "rooted");
    // No user namespace: the identity map of the initial namespace.
    REQUIRE(j["uid_map"].size() == 1);
    CHECK(j["uid_map"][0] == nlohmann::json::array({0, 0, 4294967295u}));
    // No session was made.
    CHECK_FALSE(bock::fs::exists(env_or("BOCK_RUNROOT", "") + "/session/holder.pid"));
}

TEST_CASE("root: nothing left after --rm", "[root-cleanup]") {
    REQUIRE(cli({"run", "--rm", "busybox", "true"}).code == 0);
    REQUIRE(cli({"run", "--rm", "busybox", "false"}).code == 1);
    auto mountinfo = bock::fs::read_file("/proc/self/mountinfo");
    REQUIRE(mountinfo);
    CHECK_THAT(*mountinfo, !Catch::Contains(env_or("BOCK_RUNROOT", "")));
    auto left = run({"find", env_or("BOCK_RUNROOT", "") + "/containers", env_or("BOCK_ROOT", "") + "/containers",
                     "-mindepth", "1"});
    CHECK(left.out.empty());
}

TEST_CASE("root: multi-uid image keeps its owners", "[root-owners]") {
    auto img = make_image("localhost/owners:root", {"dir /data 0755 0 0\n"
                                                    "text /data/by-1000 0640 1000 1000 user\n"
                                                    "text /data/by-nobody 0600 65534 65534 nobody\n"});
    auto r = cli({"run", "--rm", img, "stat", "-c", "%u:%g %a", "/data/by-1000", "/data/by-nobody"});
    REQUIRE(r.code == 0);
    CHECK(lines(r.out) == std::vector<std::string>{"1000:1000 640", "65534:65534 600"});
}

TEST_CASE("root: a missing image is exit 125", "[root-errors]") {
    // --pull=never: a short name would otherwise be pulled from docker.io.
    auto r = cli({"run", "--rm", "--pull=never", "no-such-image", "true"});
    CHECK(r.code == 125);
    CHECK_THAT(r.err, Catch::Contains("no-such-image"));
}
