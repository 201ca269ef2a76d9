#include <catch2/catch.hpp>

#include "bock/common/error.hpp"

using namespace bock;

namespace {
Result<int> parse_positive(int v) {
    if (v <= 0) return make_error("value {} is not positive", v);
    return v;
}
Result<int> doubled(int v) {
    int x = BOCK_TRY_CTX(parse_positive(v), "double it");
    return x * 2;
}
}  // namespace

TEST_CASE("errors carry errno and wrapped context", "[error]") {
    Error e(ENOENT, "open `/etc/subuid`");
    CHECK(e.to_string() == "open `/etc/subuid`: no such file or directory");
    e.wrap("read subordinate ids");
    CHECK(e.to_string() == "read subordinate ids: open `/etc/subuid`: no such file or directory");
    CHECK(e.exit_status() == 125);
    CHECK(Error(0, "plain").to_string() == "plain");
}

TEST_CASE("BOCK_TRY propagates and unwraps", "[error]") {
    auto good = doubled(4);
    REQUIRE(good);
    CHECK(*good == 8);
    auto bad = doubled(-1);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message() == "double it: value -1 is not positive");
}

TEST_CASE("hint and exit status travel with the error", "[error]") {
    Result<void> r = make_error("no range").with_hint("run usermod").with_exit(127);
    REQUIRE_FALSE(r);
    CHECK(r.error().hint() == "run usermod");
    CHECK(r.error().exit_status() == 127);
}
