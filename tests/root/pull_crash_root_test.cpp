// A pull killed with SIGKILL as root (no user namespace) is completed by
// the next pull; two pulls at once both succeed (rootless: pull_pipeline_test).
#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "registry.hpp"
#include "testlib.hpp"

using namespace bock::test;

TEST_CASE("root: a killed pull is completed by the next one", "[root-pull-crash]") {
    LocalRegistry reg;
    std::string dir = tmp_dir();
    std::string data(1 << 20, '\0');
    for (size_t i = 0; i < data.size(); i++) data[i] = static_cast<char>((i * 2654435761u) >> 13);
    REQUIRE(bock::fs::write_file(dir + "/data", data));
    REQUIRE(bock::fs::write_file(dir + "/l1.spec", "file /data 0644 0 0 data\ntext /etc/msg 0644 0 0 crash\n"));
    auto mk = run({bin("bock-mkimage"), "--out", dir + "/img.tar", "--name", "localhost/c:1", "--busybox", "--cmd",
                   "cat", "--cmd", "/etc/msg", "--layer", dir + "/l1.spec"});
    INFO(mk.err);
    REQUIRE(mk.code == 0);
    reg.publish(dir + "/img.tar", "c:1");
    std::string ref = reg.host() + "/c:1";
    std::string root = env_or("BOCK_ROOT", "");
    for (const char* point : {"pull-layer-partial", "pull-before-index"}) {
        INFO("kill point " << point);
        CHECK(cli({"pull", "-q", ref}, {std::string("BOCK_TEST_KILL_POINT=") + point}).code == 128 + 9);
        CHECK(nlohmann::json::parse(cli({"images", "--format", "json"}).out).empty());
        REQUIRE(cli({"pull", "-q", ref}).code == 0);
        CHECK(cli({"run", "--rm", ref}).out == "crash");
        CHECK(run({"find", root + "/tmp", "-mindepth", "1"}).out.empty());
        REQUIRE(cli({"rmi", ref}).code == 0);
    }
}
