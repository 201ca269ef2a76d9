// Loading OCI and `docker save` archives, listing and removing images.
#include <catch2/catch.hpp>

#include "testlib.hpp"

using namespace bock::test;

TEST_CASE("load an OCI and a docker archive, run them, list and remove", "[load]") {
    auto oci = make_image("localhost/fmt:oci", {"text /etc/flavour 0644 0 0 oci\n"}, true, {"cat", "/etc/flavour"});
    auto docker = make_image("localhost/fmt:docker", {"text /etc/flavour 0644 0 0 docker\n"}, true,
                             {"cat", "/etc/flavour"}, "docker");
    CHECK(cli({"run", "--rm", oci}).out == "oci");
    CHECK(cli({"run", "--rm", docker}).out == "docker");

    auto q = cli({"images", "-q"});
    REQUIRE(q.code == 0);
    CHECK(lines(q.out).size() == 2);
    auto table = cli({"images"});
    CHECK_THAT(table.out, Catch::Contains("localhost/fmt") && Catch::Contains("oci") && Catch::Contains("docker"));

    // Layers shared by both images (busybox) are extracted once.
    auto j = nlohmann::json::parse(cli({"images", "--format", "json"}).out);
    REQUIRE(j.size() == 2);
    CHECK(j[0]["Layers"][0] == j[1]["Layers"][0]);

    auto rmi = cli({"rmi", oci});
    CHECK(rmi.code == 0);
    CHECK(lines(cli({"images", "-q"}).out).size() == 1);
    CHECK(cli({"run", "--rm", docker}).out == "docker");
    CHECK(cli({"rmi", "localhost/fmt:oci"}).code != 0);
}

TEST_CASE("save then load round-trips an image from standard input", "[load]") {
    std::string out = tmp_dir() + "/saved.tar";
    REQUIRE(cli({"run", "--rm", "busybox", "true"}).code == 0);
    REQUIRE(cli({"save", "-o", out, "busybox"}).code == 0);
    REQUIRE(cli({"rmi", "busybox"}).code == 0);
    auto load = run({"sh", "-c", bin("bock") + " load < " + out});
    CHECK(load.code == 0);
    CHECK_THAT(load.out, Catch::Contains("localhost/busybox:latest"));

    // The same image as an OCI layout directory.
    std::string dir = tmp_dir() + "/layout";
    REQUIRE(run({"mkdir", "-p", dir}).code == 0);
    REQUIRE(run({"tar", "-C", dir, "-xf", out}).code == 0);
    REQUIRE(cli({"rmi", "busybox"}).code == 0);
    auto from_dir = cli({"load", "-i", dir});
    CHECK(from_dir.code == 0);
    CHECK(cli({"run", "--rm", "busybox", "echo", "layout"}).out == "layout\n");
}
