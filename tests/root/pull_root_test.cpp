// bock pull as root (no user namespace) from a private docker-registry.
#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "registry.hpp"
#include "testlib.hpp"

using namespace bock::test;

TEST_CASE("root: pull an image from a local registry and run it", "[root-pull]") {
    LocalRegistry reg;
    std::string dir = tmp_dir();
    REQUIRE(bock::fs::write_file(dir + "/l1.spec", "text /etc/msg 0644 0 0 root pull\ndir /w 0755 0 0\n"));
    REQUIRE(bock::fs::write_file(dir + "/l2.spec", "opaque /w\ntext /w/x 0600 1000 1000 x\n"));
    auto mk = run({bin("bock-mkimage"), "--out", dir + "/img.tar", "--name", "localhost/r:1", "--busybox", "--cmd",
                   "sh", "--cmd", "-c", "--cmd", "cat /etc/msg; stat -c %u:%a /w/x", "--layer", dir + "/l1.spec",
                   "--layer", dir + "/l2.spec"});
    INFO(mk.err);
    REQUIRE(mk.code == 0);
    reg.publish(dir + "/img.tar", "r:1");
    std::string ref = reg.host() + "/r:1";
    REQUIRE(cli({"pull", ref}).code == 0);
    CHECK(cli({"run", "--rm", ref}).out == "root pull1000:600\n");
    auto j = nlohmann::json::parse(cli({"images", "--format", "json"}).out);
    REQUIRE(j.size() == 1);
    CHECK(j[0]["Digest"] == reg.digest_of("r:1"));
}
