// What the container sees, reported by the static probe.
#include <unistd.h>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "testlib.hpp"

using namespace bock::test;

TEST_CASE("inside: uid 0, the full subordinate range mapped, PID 1, own namespaces", "[identity]") {
    auto j = probe({"--hostname", "probed"});
    CHECK(j["uid"] == 0);
    CHECK(j["gid"] == 0);
    CHECK(j["pid"] == 1);
    CHECK(j["hostname"] == "probed");
    // uid_map: 0 -> the user, 1..65536 -> the subordinate range in /etc/subuid.
    auto map = j["uid_map"];
    REQUIRE(map.size() == 2);
    CHECK(map[0] == nlohmann::json::array({0, ::getuid(), 1}));
    CHECK(map[1][0] == 1);
    CHECK(map[1][2] == 65536);
    auto sub = bock::fs::read_file("/etc/subuid");
    REQUIRE(sub);
    CHECK_THAT(*sub, Catch::Contains(fmt::format("{}:{}:65536", current_user(), map[1][1].get<long>())));
    // New pid, net, mnt, uts, ipc namespaces: not the test process's own.
    for (const char* ns : {"pid", "net", "mnt", "uts", "ipc"}) {
        auto mine = bock::fs::readlink(fmt::format("/proc/self/ns/{}", ns));
        REQUIRE(mine);
        CHECK(j["namespaces"][ns] != *mine);
    }
    // Only stdio is open: no fd of bock leaks into the container.
    for (const auto& fd : j["fds"]) CHECK(fd["fd"].get<int>() <= 2);
}
