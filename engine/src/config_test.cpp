#include <catch2/catch.hpp>

#include "bock/engine/config.hpp"

using namespace bock;
using namespace bock::engine;

TEST_CASE("bock.conf: keys, later files win, unknown keys warned with file:line", "[config]") {
    Config c;
    std::vector<std::string> w;
    REQUIRE(parse_config("[engine]\nstorage_driver = \"vfs\"\nignore_limits = true\n[network]\ndefault_network = \"none\"\n"
                         "[containers]\ndefault_ulimits = [\"nofile=10:20\"]\nlog_size = \"1m\"\n",
                         "/etc/bock/bock.conf", c, w));
    CHECK(c.storage_driver == "vfs");
    CHECK(c.ignore_limits);
    CHECK(c.default_network == "none");
    CHECK(c.default_ulimits == std::vector<std::string>{"nofile=10:20"});
    REQUIRE(w.size() == 1);
    CHECK(w[0] == "/etc/bock/bock.conf:8: unknown key `containers.log_size`, ignored");
    REQUIRE(parse_config("[engine]\nstorage_driver = \"bock-fuse\"\n", "/u/bock.conf", c, w));
    CHECK(c.storage_driver == "bock-fuse");
    CHECK(c.default_network == "none");  // kept from the first file
    CHECK(c.files == std::vector<std::string>{"/etc/bock/bock.conf", "/u/bock.conf"});
    bool found = false;
    for (const auto& [k, where] : c.origins)
        if (k == "engine.storage_driver") found = where == "/u/bock.conf:2";
    CHECK(found);
}

TEST_CASE("bock.conf: wrong types and malformed text are errors with file:line", "[config]") {
    Config c;
    std::vector<std::string> w;
    auto e = parse_config("[network]\ndefault_network = 3\n", "f", c, w);
    REQUIRE(!e);
    CHECK(e.error().message() == "f:2: `network.default_network` must be a string, not an integer");
    e = parse_config("[containers]\ndefault_capabilities = [1]\n", "f", c, w);
    REQUIRE(!e);
    CHECK(e.error().message() == "f:2: `containers.default_capabilities` must be an array of strings");
    e = parse_config("[engine\n", "f", c, w);
    REQUIRE(!e);
    CHECK(e.error().message() == "f:1: expected `]` after the table name");
}
