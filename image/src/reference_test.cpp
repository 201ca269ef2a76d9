#include "bock/image/reference.hpp"

#include <catch2/catch.hpp>

using bock::image::local_candidates;
using bock::image::Reference;

static Reference parse_ok(std::string_view s) {
    auto r = Reference::parse(s);
    INFO(s << ": " << (r ? "" : r.error().message()));
    REQUIRE(r);
    return *r;
}

TEST_CASE("reference: docker.io normalisation") {
    auto r = parse_ok("busybox");
    CHECK(r.domain == "docker.io");
    CHECK(r.path == "library/busybox");
    CHECK(r.tag == "latest");
    CHECK_FALSE(r.had_domain);
    CHECK(r.str() == "docker.io/library/busybox:latest");
    CHECK(r.familiar() == "busybox:latest");
    CHECK(parse_ok("user/app:1.0").str() == "docker.io/user/app:1.0");
    CHECK(parse_ok("user/app:1.0").familiar() == "user/app:1.0");
    CHECK(parse_ok("index.docker.io/library/alpine").str() == "docker.io/library/alpine:latest");
    CHECK(parse_ok("docker.io/alpine").str() == "docker.io/library/alpine:latest");
}

TEST_CASE("reference: domains, ports, localhost") {
    auto r = parse_ok("localhost/busybox");
    CHECK(r.domain == "localhost");
    CHECK(r.path == "busybox");
    CHECK(r.had_domain);
    CHECK(r.familiar() == "localhost/busybox:latest");
    r = parse_ok("127.0.0.1:5000/a/b:v2");
    CHECK(r.domain == "127.0.0.1:5000");
    CHECK(r.path == "a/b");
    CHECK(r.tag == "v2");
    r = parse_ok("localhost:5000/x");
    CHECK(r.domain == "localhost:5000");
    r = parse_ok("quay.io/podman/stable");
    CHECK(r.str() == "quay.io/podman/stable:latest");
    r = parse_ok("[::1]:5000/img");
    CHECK(r.domain == "[::1]:5000");
}

TEST_CASE("reference: digests") {
    std::string hex(64, 'a');
    auto r = parse_ok("busybox@sha256:" + hex);
    CHECK(r.tag.empty());
    CHECK(r.digest == "sha256:" + hex);
    CHECK(r.str() == "docker.io/library/busybox@sha256:" + hex);
    r = parse_ok("busybox:1@sha256:" + hex);
    CHECK(r.tag == "1");
    CHECK(r.str() == "docker.io/library/busybox:1@sha256:" + hex);
    CHECK_FALSE(Reference::parse("busybox@sha256:abc"));
    CHECK_FALSE(Reference::parse("busybox@md5:" + hex));
}

TEST_CASE("reference: bad names") {
    auto up = Reference::parse("Busybox");
    REQUIRE_FALSE(up);
    CHECK(up.error().message().find("repository name must be lowercase") != std::string::npos);
    CHECK_FALSE(Reference::parse("localhost/Foo"));
    CHECK_FALSE(Reference::parse(""));
    CHECK_FALSE(Reference::parse("a//b"));
    CHECK_FALSE(Reference::parse("-a"));
    CHECK_FALSE(Reference::parse("a:"));
    CHECK_FALSE(Reference::parse("a:-tag"));
    CHECK_FALSE(Reference::parse("a:" + std::string(129, 't')));
    CHECK(Reference::parse("a:" + std::string(128, 't')));
    CHECK_FALSE(Reference::parse(std::string(64, 'a')));
    CHECK_FALSE(Reference::parse("a..b"));
    CHECK(Reference::parse("a__b"));
    CHECK(Reference::parse("a---b.c_d"));
    CHECK_FALSE(Reference::parse("a___b"));
    CHECK_FALSE(Reference::parse("host:notaport/x"));
}

TEST_CASE("reference: local candidates") {
    auto c = local_candidates(parse_ok("busybox"));
    REQUIRE(c.size() == 2);
    CHECK(c[0].str() == "localhost/busybox:latest");
    CHECK(c[1].str() == "docker.io/library/busybox:latest");
    c = local_candidates(parse_ok("foo/bar:1"));
    REQUIRE(c.size() == 2);
    CHECK(c[0].str() == "localhost/foo/bar:1");
    CHECK(c[1].str() == "docker.io/foo/bar:1");
    c = local_candidates(parse_ok("quay.io/x/y"));
    REQUIRE(c.size() == 1);
    CHECK(c[0].str() == "quay.io/x/y:latest");
    c = local_candidates(parse_ok("docker.io/busybox"));
    REQUIRE(c.size() == 1);
}
