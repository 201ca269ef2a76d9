// bock push as root to a private docker-registry with Basic auth.
#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "registry.hpp"
#include "testlib.hpp"

using namespace bock::test;

TEST_CASE("root: login, push the default image and a pulled one, pull back and run", "[root-push]") {
    LocalRegistry reg({"root-user", "root-pw", false, false});
    std::vector<std::string> env{"REGISTRY_AUTH_FILE=" + tmp_dir() + "/auth.json", "DOCKER_CONFIG=" + tmp_dir()};
    reg.publish(fixture_archive("localhost/owned:1", {"text /etc/msg 0600 1000 1000 owned\n"},
                                {"stat", "-c", "%u:%a", "/etc/msg"}),
                "owned:1");
    REQUIRE(cli({"login", "-u", "root-user", "-p", "root-pw", reg.host()}, env).code == 0);

    auto push = cli({"push", "-q", "busybox", reg.host() + "/bb:root"}, env);
    REQUIRE(push.code == 0);
    CHECK(lines(push.out) == std::vector<std::string>{reg.digest_of("bb:root")});

    std::string src = reg.host() + "/owned:1";
    REQUIRE(cli({"pull", "-q", src}, env).code == 0);
    auto copy = cli({"push", "-q", src, reg.host() + "/copy/owned:2"}, env);
    REQUIRE(copy.code == 0);
    CHECK(lines(copy.out) == std::vector<std::string>{reg.digest_of("owned:1")});
    CHECK(reg.digest_of("copy/owned:2") == reg.digest_of("owned:1"));

    REQUIRE(cli({"pull", "-q", reg.host() + "/copy/owned:2"}, env).code == 0);
    CHECK(cli({"run", "--rm", reg.host() + "/copy/owned:2"}, env).out == "1000:600\n");
    REQUIRE(cli({"pull", "-q", reg.host() + "/bb:root"}, env).code == 0);
    CHECK(cli({"run", "--rm", reg.host() + "/bb:root", "echo", "ok"}, env).out == "ok\n");
}
