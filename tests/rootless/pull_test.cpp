// bock pull from a private docker-registry on 127.0.0.1 (tests/lib/registry.hpp),
// fixtures built with bock-mkimage and published with skopeo.
#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "registry.hpp"
#include "testlib.hpp"

using namespace bock::test;

namespace {

// Builds an OCI archive (busybox + the given layers) without loading it.
std::string make_archive(const std::string& name, const std::vector<std::string>& layer_specs,
                         const std::vector<std::string>& cmd) {
    static int counter = 0;
    std::string dir = tmp_dir();
    std::string out = fmt::format("{}/pull-{}.tar", dir, ++counter);
    std::vector<std::string> argv{bin("bock-mkimage"), "--out", out, "--name", name, "--busybox"};
    for (const auto& c : cmd) argv.insert(argv.end(), {"--cmd", c});
    for (size_t i = 0; i < layer_specs.size(); i++) {
        std::string spec = fmt::format("{}/pull-{}-{}.spec", dir, counter, i);
        REQUIRE(bock::fs::write_file(spec, layer_specs[i]));
        argv.insert(argv.end(), {"--layer", spec});
    }
    auto mk = run(argv);
    INFO("bock-mkimage: " << mk.err);
    REQUIRE(mk.code == 0);
    return out;
}


}  // namespace

TEST_CASE("pull an image from a local registry and run it", "[pull]") {
    LocalRegistry reg;
    reg.publish(make_archive("localhost/hello:1", {"text /etc/msg 0644 0 0 hello from the registry\n"},
                             {"cat", "/etc/msg"}),
                "hello:1");
    std::string ref = reg.host() + "/hello:1";

    auto pull = cli({"pull", ref});
    REQUIRE(pull.code == 0);
    CHECK_THAT(pull.err, Catch::Contains("Copying blob"));
    CHECK(cli({"run", "--rm", ref}).out == "hello from the registry");

    // The stored manifest is the one the registry serves.
    auto j = images_named(reg.host());
    REQUIRE(j.size() == 1);
    CHECK(j[0]["Names"][0] == ref);
    CHECK(j[0]["Digest"] == reg.digest_of("hello:1"));
    CHECK(lines(pull.out) == std::vector<std::string>{j[0]["Id"].get<std::string>()});

    // Pulling again is quiet with -q and changes nothing.
    auto again = cli({"pull", "-q", ref});
    CHECK(again.code == 0);
    CHECK(again.err.empty());
    CHECK(lines(again.out) == std::vector<std::string>{j[0]["Id"].get<std::string>()});
    CHECK(images_named(reg.host()) == j);

    // By digest, under its own name.
    std::string by_digest = reg.host() + "/hello@" + reg.digest_of("hello:1");
    REQUIRE(cli({"pull", "-q", by_digest}).code == 0);
    CHECK(cli({"run", "--rm", by_digest}).out == "hello from the registry");
    CHECK(images_named(reg.host())[0]["Names"].size() == 2);  // one image, two names
}

TEST_CASE("pull errors are one line and exit 125, and leave the store as it was", "[pull]") {
    LocalRegistry reg;
    reg.publish(make_archive("localhost/there:1", {"text /etc/msg 0644 0 0 here\n"}, {"cat", "/etc/msg"}),
                "there:1");
    REQUIRE(cli({"pull", "-q", reg.host() + "/there:1"}).code == 0);
    auto before = images_named(reg.host());
    auto blobs_before = run({"ls", bock::test::env_or("BOCK_ROOT", "") + "/blobs/sha256"}).out;

    auto missing = cli({"pull", "-q", reg.host() + "/there:nope"});
    CHECK(missing.code == 125);
    CHECK(lines(missing.err).size() == 1);
    CHECK_THAT(missing.err, Catch::Contains("nope") && Catch::Contains("not found"));

    std::string zeros(64, '0');
    auto bad_digest = cli({"pull", "-q", reg.host() + "/there@sha256:" + zeros});
    CHECK(bad_digest.code == 125);
    CHECK(lines(bad_digest.err).size() == 1);

    std::string closed = "127.0.0.1:" + std::to_string(closed_port());
    auto refused = cli({"pull", "-q", closed + "/x:1"});
    CHECK(refused.code == 125);
    CHECK(lines(refused.err).size() == 1);
    CHECK_THAT(refused.err, Catch::Contains("pull " + closed + "/x:1: connect to " + closed) &&
                                Catch::Contains("connection refused"));

    auto bad_platform = cli({"pull", "-q", "--platform", "linux", reg.host() + "/there:1"});
    CHECK(bad_platform.code == 125);
    CHECK_THAT(bad_platform.err, Catch::Contains("os/arch"));

    CHECK(images_named(reg.host()) == before);
    CHECK(run({"ls", bock::test::env_or("BOCK_ROOT", "") + "/blobs/sha256"}).out == blobs_before);
    CHECK(run({"find", bock::test::env_or("BOCK_ROOT", "") + "/tmp", "-mindepth", "1"}).out.empty());
}

TEST_CASE("a pulled multi-layer image applies whiteouts and opaque directories", "[pull]") {
    LocalRegistry reg;
    auto archive = make_archive("localhost/layers:1",
                                {"text /etc/gone 0644 0 0 gone\n"
                                 "dir /data 0755 0 0\n"
                                 "text /data/old 0644 0 0 old\n"
                                 "text /etc/kept 0644 0 0 kept\n",
                                 "whiteout /etc/gone\n"
                                 "opaque /data\n"
                                 "text /data/new 0644 0 0 new\n"},
                                {"sh", "-c", "ls /data; cat /etc/kept; test -e /etc/gone || echo no-gone"});
    reg.publish(archive, "layers:1");
    std::string ref = reg.host() + "/layers:1";
    REQUIRE(cli({"pull", "-q", ref}).code == 0);
    auto j = images_named(reg.host());
    REQUIRE(j.size() == 1);
    CHECK(j[0]["Layers"].size() == 3);
    auto r = cli({"run", "--rm", ref});
    CHECK(r.code == 0);
    CHECK(r.out == "new\nkeptno-gone\n");
}
