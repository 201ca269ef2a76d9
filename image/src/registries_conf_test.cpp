#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "bock/image/registries_conf.hpp"
#include "test_util.hpp"

using namespace bock;
using namespace bock::image;
using Catch::Contains;

namespace {

Reference ref(std::string_view s) { return *Reference::parse(s); }

}  // namespace

TEST_CASE("registries.conf v2: search list, registries, mirrors", "[registries-conf]") {
    RegistriesConf c;
    std::vector<std::string> w;
    REQUIRE(parse_registries_conf(R"(
unqualified-search-registries = ["127.0.0.1:5000", "docker.io"]
short-name-mode = "enforcing"

[[registry]]
prefix = "example.com/foo"
location = "127.0.0.1:6000/bar"
insecure = true

[[registry.mirror]]
location = "127.0.0.1:7000/mirror"
insecure = true

[[registry.mirror]]
location = "127.0.0.1:7001"

[[registry]]
location = "evil.io"
blocked = true
)",
                                  "/x/registries.conf", c, w));
    CHECK(w.empty());
    CHECK(c.unqualified_search == std::vector<std::string>{"127.0.0.1:5000", "docker.io"});
    REQUIRE(c.registries.size() == 2);
    CHECK(c.registries[0].prefix == "example.com/foo");
    CHECK(c.registries[0].insecure);
    REQUIRE(c.registries[0].mirrors.size() == 2);
    CHECK(c.registries[1].prefix == "evil.io");
    CHECK(c.registries[1].blocked);

    auto s = *pull_sources(ref("example.com/foo/app:1"), c);
    REQUIRE(s.size() == 3);
    CHECK(s[0].ref.str() == "127.0.0.1:7000/mirror/app:1");
    CHECK(s[0].insecure);
    CHECK(s[1].ref.str() == "127.0.0.1:7001/app:1");
    CHECK(!s[1].insecure);
    CHECK(s[2].ref.str() == "127.0.0.1:6000/bar/app:1");
    CHECK(s[2].insecure);
    auto plain = *pull_sources(ref("quay.io/x:1"), c);
    REQUIRE(plain.size() == 1);
    CHECK(plain[0].ref.str() == "quay.io/x:1");
    auto blocked = pull_sources(ref("evil.io/x:1"), c);
    REQUIRE(!blocked);
    CHECK_THAT(blocked.error().message(), Contains("blocked") && Contains("/x/registries.conf"));

    auto cands = search_candidates(ref("busybox"), "busybox", c);
    REQUIRE(cands.size() == 2);
    CHECK(cands[0].str() == "127.0.0.1:5000/busybox:latest");
    CHECK(cands[1].str() == "docker.io/library/busybox:latest");
    CHECK(search_candidates(ref("quay.io/a/b"), "quay.io/a/b", c).size() == 1);
    RegistriesConf none;
    auto def = search_candidates(ref("busybox"), "busybox", none);
    REQUIRE(def.size() == 1);
    CHECK(def[0].str() == "docker.io/library/busybox:latest");
}

TEST_CASE("registries.conf: unknown and misplaced keys are warnings with file and line", "[registries-conf]") {
    RegistriesConf c;
    std::vector<std::string> w;
    REQUIRE(parse_registries_conf("unqualified-search-registries = [\"a.io\"]\n"
                                  "insecure = true\n"
                                  "colour = \"blue\"\n"
                                  "[[registry]]\n"
                                  "location = \"b.io\"\n"
                                  "insecur = true\n"
                                  "blocked = \"yes\"\n"
                                  "[[registry.mirror]]\n"
                                  "location = \"m.io\"\n"
                                  "weight = 3\n",
                                  "/etc/x.conf", c, w));
    REQUIRE(w.size() == 5);
    CHECK_THAT(w[0], Contains("/etc/x.conf:2") && Contains("`insecure` is misplaced"));
    CHECK_THAT(w[1], Contains("/etc/x.conf:3") && Contains("unknown key `colour`"));
    CHECK_THAT(w[2], Contains("/etc/x.conf:6") && Contains("unknown key `insecur` in [[registry]]"));
    CHECK_THAT(w[3], Contains("/etc/x.conf:7") && Contains("`blocked` must be true or false"));
    CHECK_THAT(w[4], Contains("/etc/x.conf:10") && Contains("unknown key `weight` in [[registry.mirror]]"));
    REQUIRE(c.registries.size() == 1);
    CHECK(!c.registries[0].blocked);

    auto bad = parse_registries_conf("[[registry]\n", "/etc/bad.conf", c, w);
    REQUIRE(!bad);
    CHECK_THAT(bad.error().message(), Contains("/etc/bad.conf:1") && Contains("invalid toml"));
}

TEST_CASE("registries.conf: first main file wins, drop-ins merged on top", "[registries-conf]") {
    testing::TempDir t;
    REQUIRE(fs::mkdir_p(t / "bock/registries.conf.d"));
    REQUIRE(fs::write_file(t / "bock/registries.conf",
                           "unqualified-search-registries = [\"a.io\"]\n"
                           "[[registry]]\nprefix = \"x.io\"\nlocation = \"y.io\"\n"));
    REQUIRE(fs::write_file(t / "bock/registries.conf.d/10-b.conf",
                           "unqualified-search-registries = [\"b.io\", \"c.io\"]\n"
                           "[[registry]]\nprefix = \"x.io\"\nblocked = true\n"));
    REQUIRE(fs::write_file(t / "bock/registries.conf.d/ignored.txt", "junk"));
    ::setenv("BOCK_REGISTRIES_CONF", (t / "bock/registries.conf").c_str(), 1);
    auto files = registries_conf_files();
    REQUIRE(files.size() == 2);
    CHECK(files[1] == t / "bock/registries.conf.d/10-b.conf");
    auto c = load_registries_conf();
    ::unsetenv("BOCK_REGISTRIES_CONF");
    REQUIRE(c);
    CHECK(c->unqualified_search == std::vector<std::string>{"b.io", "c.io"});
    REQUIRE(c->registries.size() == 1);
    CHECK(c->registries[0].blocked);
}
