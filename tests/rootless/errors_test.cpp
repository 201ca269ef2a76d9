// Bad input gets one clear error line and exit 125, and loses nothing.
#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "testlib.hpp"

using namespace bock::test;

namespace {

int error_lines(const std::string& err) {
    int n = 0;
    for (const auto& l : lines(err))
        if (l.find("error:") != std::string::npos) ++n;
    return n;
}

}  // namespace

TEST_CASE("a missing image is one error line and exit 125", "[errors]") {
    // --pull=never: a short name would otherwise be pulled from docker.io.
    auto r = cli({"run", "--rm", "--pull=never", "no-such-image", "true"});
    CHECK(r.code == 125);
    CHECK(error_lines(r.err) == 1);
    CHECK_THAT(r.err, Catch::Contains("no-such-image"));
    auto bad = cli({"run", "--rm", "Bad:Name:x", "true"});
    CHECK(bad.code == 125);
    CHECK(error_lines(bad.err) == 1);
}

TEST_CASE("an archive that is not an image is refused, store unchanged", "[errors]") {
    std::string dir = tmp_dir();
    REQUIRE(bock::fs::write_file(dir + "/hello.txt", "not an image"));
    REQUIRE(run({"tar", "-C", dir, "-cf", dir + "/notimage.tar", "hello.txt"}).code == 0);
    auto r = cli({"load", "-i", dir + "/notimage.tar"});
    CHECK(r.code == 125);
    CHECK(error_lines(r.err) == 1);
    CHECK_THAT(r.err, Catch::Contains("notimage.tar"));
    auto garbage = cli({"load", "-i", "/etc/hostname"});
    CHECK(garbage.code == 125);
    CHECK(error_lines(garbage.err) == 1);
    auto missing = cli({"load", "-i", dir + "/missing.tar"});
    CHECK(missing.code == 125);
    auto images = cli({"images", "-q"});
    CHECK(images.code == 0);
    CHECK(images.out.empty());
}

TEST_CASE("a load killed with SIGKILL leaves nothing half-written", "[errors]") {
    // Build the archive once; then kill the load at each named point.
    std::string dir = tmp_dir();
    auto mk = run({bin("bock-mkimage"), "--out", dir + "/img.tar", "--name", "localhost/killed:1", "--busybox",
                   "--cmd", "true"});
    REQUIRE(mk.code == 0);
    for (const char* point : {"load-blob-partial", "load-blob-before-rename", "load-layer-partial",
                              "load-before-index"}) {
        INFO("kill point " << point);
        auto killed = cli({"load", "-i", dir + "/img.tar"}, {std::string("BOCK_TEST_KILL_POINT=") + point});
        CHECK(killed.code == 128 + 9);
        auto images = cli({"images", "--format", "json"});
        REQUIRE(images.code == 0);
        CHECK(nlohmann::json::parse(images.out).empty());
    }
    auto ok = cli({"load", "-i", dir + "/img.tar"});
    REQUIRE(ok.code == 0);
    auto tmp = run({"find", env_or("BOCK_ROOT", "") + "/tmp", "-mindepth", "1"});
    CHECK(tmp.out.empty());
    CHECK(cli({"run", "--rm", "localhost/killed:1"}).code == 0);
}
