#include "bock/image/default_image.hpp"

#include <catch2/catch.hpp>

#include "bock_skip.hpp"

#include "bock/common/fs.hpp"
#include "test_util.hpp"

using namespace bock;
using namespace bock::image;
using namespace bock::image::testing;

TEST_CASE("default image: built once from the static busybox, deterministic") {
    auto bb = find_static_busybox();
    if (!bb) {
        BOCK_SKIP("" << bb.error().message());
    }
    TempDir t;
    StoreOptions o;
    o.rootless = o.single_id = ::getuid() != 0;
    auto a = Store::open(t / "a", o);
    auto b = Store::open(t / "b", o);
    REQUIRE(a);
    REQUIRE(b);
    auto ra = ensure_default_image(*a);
    INFO((ra ? "" : ra.error().to_string()));
    REQUIRE(ra);
    CHECK(ra->name == "localhost/busybox:latest");
    auto again = ensure_default_image(*a);
    REQUIRE(again);
    CHECK(again->manifest == ra->manifest);
    auto rb = ensure_default_image(*b);
    REQUIRE(rb);
    CHECK(rb->manifest == ra->manifest);
    auto found = a->lookup("busybox");
    REQUIRE(found);
    REQUIRE(*found);
    CHECK((*found)->name == "localhost/busybox:latest");
    auto dir = a->layer_dirs(*ra).at(0);
    CHECK(*fs::readlink(dir + "/bin/sh") == "busybox");
    CHECK(fs::read_file(dir + "/etc/passwd")->starts_with("root:x:0:0:"));
    auto cfg = a->config(*ra);
    REQUIRE(cfg);
    CHECK(cfg->cmd == std::vector<std::string>{"sh"});
}

TEST_CASE("default image: dynamic busybox refused") {
    ::setenv("BOCK_BUSYBOX", "/bin/ls", 1);
    auto r = find_static_busybox();
    ::unsetenv("BOCK_BUSYBOX");
    if (r) CHECK(*r != "/bin/ls");
}
