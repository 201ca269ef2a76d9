#include <catch2/catch.hpp>

#include "bock/common/toml.hpp"

using namespace bock;

TEST_CASE("toml: the subset bock.conf uses", "[toml]") {
    auto r = toml::parse("# top\nname = \"a\\tb\" # c\n\n[engine]\nn = -1_000\nflag = true\n"
                         "[containers . deep]\nlist = [\n  'x', # one\n  \"y\",\n]\nempty = []\n",
                         "f.conf");
    REQUIRE(r);
    REQUIRE(r->size() == 5);
    CHECK((*r)[0].table.empty());
    CHECK((*r)[0].value.str == "a\tb");
    CHECK((*r)[0].line == 2);
    CHECK((*r)[1].table == "engine");
    CHECK((*r)[1].value.integer == -1000);
    CHECK((*r)[2].value.boolean);
    CHECK((*r)[3].table == "containers.deep");
    CHECK((*r)[3].value.items.size() == 2);
    CHECK((*r)[3].value.items[1].str == "y");
    CHECK((*r)[3].line == 8);
    CHECK((*r)[4].line == 12);
    CHECK((*r)[4].value.kind == toml::Value::Kind::array);
}

TEST_CASE("toml: errors name the file and line", "[toml]") {
    auto msg = [](std::string_view text) {
        auto r = toml::parse(text, "b.conf");
        REQUIRE(!r);
        return r.error().message();
    };
    CHECK(msg("a = 1\nb = \"open\n") == "b.conf:2: unterminated string");
    CHECK(msg("[t]\nx = 1\nx = 2\n") == "b.conf:3: key `t.x` is defined twice");
    CHECK(msg("\n\nx = 1.5\n") ==
          "b.conf:3: `1.5` is not a value this reader knows (strings are quoted; floats and dates are not supported)");
    CHECK(msg("x = {a = 1}\n") == "b.conf:1: inline tables are not supported: use a [table] header");
    CHECK(msg("x 1\n") == "b.conf:1: expected `=` after the key `x`");
    CHECK(msg("x = 1 2\n") == "b.conf:1: unexpected `2` after the value");
    CHECK(msg("[a]\n[a]\n") == "b.conf:2: table [a] is defined twice");
    CHECK(msg("x = [1,\n2\n") == "b.conf:3: unterminated array");
    CHECK(msg("x = bare\n").starts_with("b.conf:1: `bare` is not a value"));
}
