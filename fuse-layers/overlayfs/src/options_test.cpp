// bock-fuse-overlay's command line and id mappings.
#include "bock/fuseov/options.hpp"

#include <catch2/catch.hpp>

using namespace bock::fuseov;

TEST_CASE("the option string is fuse-overlayfs's", "[fuseov]") {
    auto o = parse_options({"-f", "-o", "lowerdir=/a:/b,upperdir=/u,workdir=/w,ready_fd=3,timeout=2.5", "/m"});
    REQUIRE(o);
    CHECK(o->lowers == std::vector<std::string>{"/a", "/b"});  // top-first
    CHECK(o->upper == "/u");
    CHECK(o->work == "/w");
    CHECK(o->ready_fd == 3);
    CHECK(o->timeout == 2.5);
    CHECK(o->mountpoint == "/m");
    CHECK(o->uids.identity());
}

TEST_CASE("bad command lines name the option and the cause", "[fuseov]") {
    CHECK(parse_options({"-o", "lowerdir=/a", "/m", "/n"}).error().message() == "more than one mount point (`/m`, `/n`)");
    CHECK(parse_options({"-o", "upperdir=/u", "/m"}).error().message() == "no lowerdir given");
    CHECK(parse_options({"-o", "lowerdir=/a,upperdir=/u", "/m"}).error().message() == "upperdir `/u` needs a workdir");
    CHECK(parse_options({"-o", "lowerdir=/a::/b", "/m"}).error().message() ==
          "option lowerdir: an empty directory in `/a::/b`");
    auto bad = parse_options({"-o", "lowerdir=/a,squash=1", "/m"});
    CHECK(bad.error().message() == "unknown option `squash`");
    CHECK(!bad.error().hint().empty());
    CHECK(parse_options({"-o", "lowerdir=/a,ready_fd=x", "/m"}).error().message() ==
          "option ready_fd: `x` is not a file descriptor");
}

TEST_CASE("id mappings shift both ways and show unmapped ids as overflow", "[fuseov]") {
    auto m = IdMap::parse("0:1000:1000:1000:0:1000");
    REQUIRE(m);
    CHECK(m->to_inner(1000) == 0);
    CHECK(m->to_inner(1999) == 999);
    CHECK(m->to_inner(0) == 1000);
    CHECK(m->to_inner(5000) == IdMap::overflow);
    uint32_t out = 0;
    CHECK(m->to_outer(5, &out));
    CHECK(out == 1005);
    CHECK(m->to_outer(1005, &out));
    CHECK(out == 5);
    CHECK_FALSE(m->to_outer(2000, &out));
    // Not symmetric: fuse-overlayfs's direction, a file stored as C shows as H.
    auto a = IdMap::parse("0:100:10");
    REQUIRE(a);
    CHECK(a->to_inner(0) == 100);
    CHECK(a->to_inner(100) == IdMap::overflow);
    CHECK(a->to_outer(105, &out));
    CHECK(out == 5);
    CHECK_FALSE(a->to_outer(5, &out));
    CHECK(IdMap::parse("0:1000").error().message() == "`0:1000` is not a list of CONTAINER:HOST:COUNT triples");
    CHECK(IdMap::parse("0:1000:0").error().message() == "`0:1000:0` is not CONTAINER:HOST:COUNT with COUNT > 0");
    CHECK(IdMap::parse("4294967295:0:2").error().message() == "`4294967295:0:2` goes past the largest id");
    auto o = parse_options({"-o", "lowerdir=/a,uidmapping=0:100000:65536,gidmapping=0:x:1", "/m"});
    CHECK(o.error().message() == "option gidmapping: `0:x:1` is not CONTAINER:HOST:COUNT with COUNT > 0");
}
