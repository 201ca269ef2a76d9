#include "bock/userns/subid.hpp"

#include <catch2/catch.hpp>

#include "subid_internal.hpp"
#include "test_support.hpp"

using namespace bock::userns;

TEST_CASE("parse_subids matches the owner by name or by uid", "[subid]") {
    std::string text =
        "alice:100000:65536\n"
        "1000:300000:1000\n"
        "bob:165536:65536\n";
    auto by_name = parse_subids(text, "/etc/subuid", "alice", 4242);
    REQUIRE(by_name);
    CHECK(*by_name == std::vector<IdRange>{{100000, 65536}});

    auto by_uid = parse_subids(text, "/etc/subuid", "carol", 1000);
    REQUIRE(by_uid);
    CHECK(*by_uid == std::vector<IdRange>{{300000, 1000}});

    auto both = parse_subids(text, "/etc/subuid", "alice", 1000);
    REQUIRE(both);
    CHECK(*both == std::vector<IdRange>{{100000, 65536}, {300000, 1000}});

    auto none = parse_subids(text, "/etc/subuid", "dave", 2000);
    REQUIRE(none);
    CHECK(none->empty());
}

TEST_CASE("parse_subids keeps several ranges in file order and skips comments", "[subid]") {
    std::string text =
        "# ranges for alice\n"
        "\n"
        "   \n"
        "alice:500000:10\n"
        "  # indented comment\n"
        "bob:1:1\n"
        "alice:200000:20\r\n"
        "alice:100000:30";  // no final newline
    auto r = parse_subids(text, "f", "alice", 1);
    REQUIRE(r);
    CHECK(*r == std::vector<IdRange>{{500000, 10}, {200000, 20}, {100000, 30}});
}

TEST_CASE("parse_subids does not match an empty user name against anything", "[subid]") {
    auto r = parse_subids("1002:100:5\n", "f", "", 1002);
    REQUIRE(r);
    CHECK(*r == std::vector<IdRange>{{100, 5}});
    auto none = parse_subids("alice:100:5\n", "f", "", 1002);
    REQUIRE(none);
    CHECK(none->empty());
}

TEST_CASE("malformed subid lines name file and line", "[subid]") {
    struct Case {
        const char* line;
        const char* reason;
    };
    const Case cases[] = {
        {"alice:100000", "expected 3 fields"},
        {"alice:1:2:3", "expected 3 fields"},
        {"alice:x:65536", "start `x` is not a decimal number"},
        {"alice:100000:-1", "count `-1` is not a decimal number"},
        {"alice:100000:", "count `` is not a decimal number"},
        {"alice:100000:0", "count is 0"},
        {":100000:10", "empty owner"},
        {"alice:4294967295:2", "exceeds 2^32"},
        {"alice:4294967296:1", "start `4294967296` exceeds 2^32 - 1"},
        {"alice:0:4294967296", "count `4294967296` exceeds 2^32 - 1"},
        {"alice:1:99999999999999999999", "not a decimal number"},
    };
    for (const auto& c : cases) {
        INFO(c.line);
        std::string text = std::string("# header\nbob:1:1\n") + c.line + "\n";
        auto r = parse_subids(text, "/etc/subuid", "bob", 1);
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().message(),
                   Catch::StartsWith(std::string("/etc/subuid:3: malformed entry `") + c.line + "`: "));
        CHECK_THAT(r.error().message(), Catch::Contains(c.reason));
    }
}

TEST_CASE("the last id of the space is a valid range end", "[subid]") {
    auto r = parse_subids("alice:4294967295:1\nalice:1:4294967295\n", "f", "alice", 0);
    REQUIRE(r);
    CHECK(*r == std::vector<IdRange>{{4294967295u, 1}, {1, 4294967295u}});
}

TEST_CASE("read_subids reads a file and treats a missing one as empty", "[subid]") {
    bock::userns::testing::TempDir dir;
    REQUIRE_FALSE(dir.path().empty());
    auto path = dir.file("subuid", "alice:100000:65536\n");
    auto r = read_subids(path, "alice", 1);
    REQUIRE(r);
    CHECK(*r == std::vector<IdRange>{{100000, 65536}});

    auto missing = read_subids(dir.path() + "/nope", "alice", 1);
    REQUIRE(missing);
    CHECK(missing->empty());

    auto bad_path = dir.file("bad", "alice:1\n");
    auto bad = read_subids(bad_path, "alice", 1);
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.error().message(), Catch::StartsWith(bad_path + ":1: malformed entry `alice:1`"));
}

TEST_CASE("read_subid_entries returns every owner's entries", "[subid]") {
    auto r = parse_subid_entries("a:1:2\n# c\nb:3:4\n", "f");
    REQUIRE(r);
    REQUIRE(r->size() == 2);
    CHECK((*r)[0].owner == "a");
    CHECK((*r)[1].owner == "b");
    CHECK((*r)[1].range == IdRange{3, 4});
}
