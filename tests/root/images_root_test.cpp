// Image management as root: docker-archive save/load with owners kept,
// import, and a kept container holding its image.
#include <catch2/catch.hpp>

#include "testlib.hpp"

using namespace bock::test;

TEST_CASE("root: docker-archive round trip, import, rmi refused while in use", "[root-images]") {
    auto img = make_image("localhost/rooti:1", {"text /w/f 0640 1000 1000 owned\n"}, true,
                          {"sh", "-c", "cat /w/f; stat -c %u:%g:%a /w/f"});
    std::string archive = tmp_dir() + "/d.tar";
    REQUIRE(cli({"save", "--format", "docker-archive", "-o", archive, img}).code == 0);
    REQUIRE(cli({"rmi", img}).code == 0);
    REQUIRE(cli({"load", "-i", archive}).code == 0);
    CHECK(cli({"run", "--rm", img}).out == "owned1000:1000:640\n");

    std::string rootfs = tmp_dir() + "/rootfs";
    REQUIRE(run({"mkdir", "-p", rootfs + "/bin"}).code == 0);
    REQUIRE(run({"cp", env_or("BOCK_BUSYBOX", "/bin/busybox"), rootfs + "/bin/busybox"}).code == 0);
    REQUIRE(run({"tar", "-C", rootfs, "-cf", tmp_dir() + "/rootfs.tar", "."}).code == 0);
    REQUIRE(cli({"import", tmp_dir() + "/rootfs.tar", "localhost/rootimport:1"}).code == 0);
    CHECK(cli({"run", "--rm", "localhost/rootimport:1", "/bin/busybox", "true"}).code == 0);

    REQUIRE(cli({"run", "localhost/rootimport:1", "/bin/busybox", "true"}).code == 0);
    auto id = lines(cli({"ps", "-aq"}).out);
    REQUIRE(id.size() == 1);
    auto refused = cli({"rmi", "localhost/rootimport:1"});
    CHECK(refused.code == 2);
    CHECK_THAT(refused.err, Catch::Contains("in use by container " + id[0]));
    REQUIRE(cli({"rm", id[0]}).code == 0);
    CHECK(cli({"rmi", "localhost/rootimport:1"}).code == 0);
}
