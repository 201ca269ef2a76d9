#include "bock/userns/idmap.hpp"

#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "bock_skip.hpp"

#include "bock/common/pid.hpp"
#include "idmap_internal.hpp"
#include "test_support.hpp"

using namespace bock::userns;
using bock::userns::testing::TempDir;

TEST_CASE("current_user returns the real ids", "[idmap]") {
    auto who = current_user();
    REQUIRE(who);
    CHECK(who->uid == ::getuid());
    CHECK(who->gid == ::getgid());
    if (::getuid() == 0) CHECK(who->name == "root");
}

TEST_CASE("plan_rootless_mappings maps the user to 0 and every range after it", "[idmap]") {
    TempDir dir;
    REQUIRE_FALSE(dir.path().empty());
    auto subuid = dir.file("subuid", "alice:100000:65536\nbob:1:1\n1000:300000:10\n");
    auto subgid = dir.file("subgid", "alice:200000:1000\n");
    auto m = plan_rootless_mappings({1000, 1001, "alice"}, subuid, subgid);
    REQUIRE(m);
    CHECK_FALSE(m->single);
    CHECK(m->uids == std::vector<IdMapping>{{0, 1000, 1}, {1, 100000, 65536}, {65537, 300000, 10}});
    CHECK(m->gids == std::vector<IdMapping>{{0, 1001, 1}, {1, 200000, 1000}});
}

TEST_CASE("plan_rootless_mappings falls back to a single id", "[idmap]") {
    TempDir dir;
    REQUIRE_FALSE(dir.path().empty());
    auto subuid = dir.file("subuid", "bob:100000:65536\n");
    auto subgid = dir.file("subgid", "bob:100000:65536\nalice:100000:65536\n");

    SECTION("no range in either file") {
        auto m = plan_rootless_mappings({1002, 1003, "carol"}, subuid, subgid);
        REQUIRE(m);
        CHECK(m->single);
        CHECK(m->uids == std::vector<IdMapping>{{0, 1002, 1}});
        CHECK(m->gids == std::vector<IdMapping>{{0, 1003, 1}});
    }
    SECTION("a range only in /etc/subgid") {
        auto m = plan_rootless_mappings({1000, 1000, "alice"}, subuid, subgid);
        REQUIRE(m);
        CHECK(m->single);
        CHECK(m->uids == std::vector<IdMapping>{{0, 1000, 1}});
    }
    SECTION("missing files") {
        auto m = plan_rootless_mappings({7, 8, "x"}, dir.path() + "/a", dir.path() + "/b");
        REQUIRE(m);
        CHECK(m->single);
        CHECK(m->gids == std::vector<IdMapping>{{0, 8, 1}});
    }
}

TEST_CASE("plan_rootless_mappings reports a malformed file", "[idmap]") {
    TempDir dir;
    REQUIRE_FALSE(dir.path().empty());
    auto subuid = dir.file("subuid", "alice:100000:65536\n");
    auto subgid = dir.file("subgid", "alice:oops:1\n");
    auto m = plan_rootless_mappings({1000, 1000, "alice"}, subuid, subgid);
    REQUIRE_FALSE(m);
    CHECK_THAT(m.error().message(), Catch::StartsWith("read subordinate gids: " + subgid + ":1: malformed entry"));
}

TEST_CASE("format_map and parse_map round-trip", "[idmap]") {
    std::vector<IdMapping> m{{0, 1000, 1}, {1, 100000, 65536}};
    CHECK(format_map(m) == "0 1000 1\n1 100000 65536\n");
    auto back = parse_map(format_map(m));
    REQUIRE(back);
    CHECK(*back == m);

    // The kernel pads its columns.
    auto kernel = parse_map("         0       1000          1\n         1     100000      65536\n");
    REQUIRE(kernel);
    CHECK(*kernel == m);

    auto identity = parse_map("         0          0 4294967295\n");
    REQUIRE(identity);
    CHECK(*identity == std::vector<IdMapping>{{0, 0, 4294967295u}});

    CHECK(parse_map("")->empty());
    CHECK_FALSE(parse_map("0 1000\n"));
    CHECK_FALSE(parse_map("0 1000 1 4\n"));
    CHECK_FALSE(parse_map("0 x 1\n"));
    CHECK_FALSE(parse_map("0 4294967296 1\n"));
    CHECK_THAT(parse_map("0 1 1\nbad\n").error().message(), Catch::Contains("line 2 `bad`"));
}

TEST_CASE("free_subid_range skips blocks already handed out", "[idmap]") {
    CHECK(free_subid_range({}) == IdRange{100000, 65536});
    std::vector<SubidEntry> taken{{"a", {100000, 65536}}, {"b", {165536, 10}}, {"c", {300000, 1}}};
    // 100000 and 165536 are busy, 231072..296607 is free.
    CHECK(free_subid_range(taken) == IdRange{231072, 65536});
    taken.push_back({"d", {231072 + 65535, 1}});
    CHECK(free_subid_range(taken) == IdRange{362144, 65536});
}

TEST_CASE("no_range_hint names the exact usermod command and both files", "[idmap]") {
    TempDir dir;
    REQUIRE_FALSE(dir.path().empty());
    auto subuid = dir.file("subuid", "alice:100000:65536\n");
    auto subgid = dir.file("subgid", "alice:100000:65536\nbob:165536:65536\n");
    CHECK(usermod_command({1002, 1002, "carol"}, subuid, subgid) ==
          "usermod --add-subuids 231072-296607 --add-subgids 231072-296607 carol");
    CHECK(usermod_command({1002, 1002, "carol"}, dir.path() + "/x", dir.path() + "/y") ==
          "usermod --add-subuids 100000-165535 --add-subgids 100000-165535 carol");

    std::string hint = no_range_hint({1002, 1002, "carol"});
    CHECK_THAT(hint, Catch::Contains("/etc/subuid"));
    CHECK_THAT(hint, Catch::Contains("/etc/subgid"));
    CHECK_THAT(hint, Catch::Contains("usermod --add-subuids "));
    CHECK_THAT(hint, Catch::EndsWith(" carol"));
}

TEST_CASE("write_mappings says how to install newuidmap when it is missing", "[idmap]") {
    TempDir dir;
    REQUIRE_FALSE(dir.path().empty());
    const char* old = ::getenv("PATH");
    std::string saved = old ? old : "";
    ::setenv("PATH", dir.path().c_str(), 1);
    IdMappings m{{{0, 1000, 1}, {1, 100000, 65536}}, {{0, 1000, 1}, {1, 100000, 65536}}, false};
    auto r = write_mappings(::getpid(), m);
    ::setenv("PATH", saved.c_str(), 1);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message(), Catch::Contains("newuidmap not found"));
    CHECK(r.error().hint() == "install the uidmap package: apt-get install uidmap");
}

TEST_CASE("write_mappings reports newuidmap's own complaint", "[idmap]") {
    auto user = bock::userns::testing::test_user("bocktest");
    if (!user || !bock::fs::exists("/usr/bin/newuidmap")) {
        BOCK_SKIP("needs user bocktest (as root) and newuidmap");
    }
    auto f = bock::userns::testing::run_child(*user, [&](bock::userns::testing::Report& r) {
        auto sync = bock::sys::pipe();
        pid_t target = ::fork();
        if (target == 0) {
            // A process in a fresh user namespace waiting for its maps.
            char c;
            if (::unshare(CLONE_NEWUSER) == 0) (void)::read(sync->first.get(), &c, 1);
            ::_exit(0);
        }
        bock::Pid guard(target);
        ::usleep(100 * 1000);
        // 4000000000.. is nobody's subordinate range.
        IdMappings m{{{0, user->uid, 1}, {1, 4000000000u, 10}}, {{0, user->gid, 1}, {1, 4000000000u, 10}}, false};
        auto w = write_mappings(target, m);
        r.add("result", w ? "ok" : w.error().to_string());
        r.add("hint", w ? "" : w.error().hint());
    });
    INFO(f["result"]);
    CHECK_THAT(f["result"], Catch::StartsWith("write the uid mapping: `/usr/bin/newuidmap "));
    CHECK_THAT(f["result"], Catch::Contains(" 0 " + std::to_string(user->uid) + " 1 1 4000000000 10` failed with exit status 1: newuidmap: "));
    CHECK_THAT(f["hint"], Catch::Contains("/etc/subuid"));
}
