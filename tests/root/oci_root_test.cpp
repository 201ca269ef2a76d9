// bock-oci run on a bundle: a good one runs in its own user namespace;
// a malformed config is one error line and exit 125.
#include <unistd.h>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "testlib.hpp"

using namespace bock::test;

namespace {

std::string make_bundle(const std::string& name) {
    std::string b = tmp_dir() + "/" + name;
    REQUIRE(bock::fs::mkdir_p(b + "/rootfs/bin"));
    for (const char* d : {"proc", "dev", "sys", "tmp", "etc"}) REQUIRE(bock::fs::mkdir_p(b + "/rootfs/" + d));
    REQUIRE(run({"cp", "/bin/busybox", b + "/rootfs/bin/busybox"}).code == 0);
    for (const char* a : {"sh", "echo", "id", "cat", "true"})
        REQUIRE(::symlink("busybox", (b + "/rootfs/bin/" + a).c_str()) == 0);
    std::vector<std::string> argv{bin("bock-oci"), "spec", "--bundle", b};
    if (!is_root()) argv.push_back("--rootless");
    auto spec = run(argv);
    REQUIRE(spec.code == 0);
    return b;
}

}  // namespace

TEST_CASE("bock-oci runs a bundle and refuses a malformed config", "[root-oci]") {
    std::string b = make_bundle("good");
    auto text = bock::fs::read_file(b + "/config.json");
    REQUIRE(text);
    auto cfg = nlohmann::json::parse(*text);
    cfg["process"]["args"] = {"sh", "-c", "echo hi; id -u; exit 9"};
    cfg["process"]["terminal"] = false;
    REQUIRE(bock::fs::write_file(b + "/config.json", cfg.dump()));
    auto r = run({bin("bock-oci"), "run", "--bundle", b, "rgood1"});
    CHECK(r.code == 9);
    CHECK(r.out == "hi\n0\n");

    REQUIRE(bock::fs::write_file(b + "/config.json", "{ \"ociVersion\": \"1.1.0\", \"process\": "));
    auto bad = run({bin("bock-oci"), "run", "--bundle", b, "rbad1"});
    CHECK(bad.code == 125);
    CHECK(lines(bad.err).size() == 1);
    CHECK_THAT(bad.err, Catch::Contains("config.json"));

    cfg["process"]["args"] = "not-an-array";
    REQUIRE(bock::fs::write_file(b + "/config.json", cfg.dump()));
    auto wrong = run({bin("bock-oci"), "run", "--bundle", b, "rbad2"});
    CHECK(wrong.code == 125);
    CHECK_THAT(wrong.err, Catch::Contains("process.args"));
}
