#include "bock/image/digest.hpp"

#include <catch2/catch.hpp>
#include <cstdio>
#include <unistd.h>

using namespace bock::image;

TEST_CASE("digest: sha256 of known strings") {
    CHECK(sha256_of("").str() == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_of("abc").hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    Sha256 h;
    h.update("a");
    h.update("bc");
    CHECK(h.finish() == sha256_of("abc"));
}

TEST_CASE("digest: parse") {
    std::string hex = sha256_of("x").hex;
    auto d = Digest::parse("sha256:" + hex);
    REQUIRE(d);
    CHECK(d->hex == hex);
    CHECK_FALSE(Digest::parse(hex));
    CHECK_FALSE(Digest::parse("sha512:" + hex));
    CHECK_FALSE(Digest::parse("sha256:" + hex.substr(1)));
    std::string upper = hex;
    upper[0] = 'A';
    auto e = Digest::parse("sha256:" + upper);
    REQUIRE_FALSE(e);
    CHECK(e.error().message().find("hex") != std::string::npos);
}

TEST_CASE("digest: file") {
    char path[] = "/tmp/bock-digest-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, "abc", 3) == 3);
    close(fd);
    auto d = sha256_of_file(path);
    REQUIRE(d);
    CHECK(*d == sha256_of("abc"));
    unlink(path);
    CHECK_FALSE(sha256_of_file(path));
}
