// bock push to a private docker-registry; skopeo reads back what Bock
// pushed and must see the same digests.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "bock/common/fs.hpp"
#include "registry.hpp"
#include "testlib.hpp"

using namespace bock::test;
using Catch::Contains;

TEST_CASE("push the default image: gzip layers cached, digest as skopeo sees it, pulled back and run",
          "[push]") {
    LocalRegistry reg;
    std::string dest = reg.host() + "/bb:1";
    std::string digestfile = tmp_dir() + "/push-digest";
    auto push = cli({"push", "--digestfile", digestfile, "busybox", "docker://" + dest});
    REQUIRE(push.code == 0);
    CHECK_THAT(push.err, Contains("Copying blob sha256:") && Contains("Writing manifest"));
    std::string digest = reg.digest_of("bb:1");
    CHECK(lines(push.out) == std::vector<std::string>{digest});
    CHECK(*bock::fs::read_file(digestfile) == digest);

    // The layer is gzip on the registry, compressed once: a second push
    // (chunked uploads this time) gives the same digest without compressing.
    auto again = cli({"push", "busybox", reg.host() + "/bb:chunked"}, {"BOCK_PUSH_CHUNK_SIZE=65536"});
    REQUIRE(again.code == 0);
    CHECK_THAT(again.err, !Contains("Compressing"));
    CHECK(reg.digest_of("bb:chunked") == digest);
    auto raw = reg.skopeo({"inspect", "--raw", "docker://" + dest});
    REQUIRE(raw.code == 0);
    auto m = nlohmann::json::parse(raw.out);
    CHECK(m["layers"][0]["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip");

    // skopeo copies it out to an OCI layout.
    std::string oci = tmp_dir() + "/pushed-oci";
    auto copy = reg.skopeo({"copy", "--quiet", "docker://" + dest, "oci:" + oci + ":bb"});
    INFO(copy.err);
    CHECK(copy.code == 0);

    // And it comes back: pull then run.
    REQUIRE(cli({"pull", "-q", dest}).code == 0);
    auto r = cli({"run", "--rm", dest, "echo", "pushed and pulled"});
    CHECK(r.code == 0);
    CHECK(r.out == "pushed and pulled\n");
}

TEST_CASE("a pulled image is pushed unchanged to another repository: same manifest digest", "[push]") {
    LocalRegistry reg;
    reg.publish(fixture_archive("localhost/src:1",
                                {"text /etc/msg 0644 0 0 one\n", "text /etc/two 0644 0 0 two\n"},
                                {"cat", "/etc/msg"}),
                "src:1");
    std::string src = reg.host() + "/src:1";
    REQUIRE(cli({"pull", "-q", src}).code == 0);
    auto push = cli({"push", src, reg.host() + "/elsewhere/copy:2"});
    REQUIRE(push.code == 0);
    std::string digest = reg.digest_of("src:1");
    CHECK(lines(push.out) == std::vector<std::string>{digest});
    CHECK(reg.digest_of("elsewhere/copy:2") == digest);
    CHECK_THAT(push.err, Contains("mounted from src"));
    auto raw_src = reg.skopeo({"inspect", "--raw", "docker://" + src});
    auto raw_dst = reg.skopeo({"inspect", "--raw", "docker://" + reg.host() + "/elsewhere/copy:2"});
    CHECK(raw_src.out == raw_dst.out);

    // Pushing again skips every blob.
    auto again = cli({"push", src, reg.host() + "/elsewhere/copy:2"});
    CHECK(again.code == 0);
    CHECK_THAT(again.err, Contains("skipped: already exists"));

    // Errors: an unknown image, an unreachable registry.
    auto missing = cli({"push", "no-such-image", reg.host() + "/x:1"});
    CHECK(missing.code == 125);
    std::string closed = "127.0.0.1:" + std::to_string(closed_port());
    auto refused = cli({"push", "-q", src, closed + "/x:1"});
    CHECK(refused.code == 125);
    CHECK_THAT(refused.err, Contains("connect to " + closed));
}
