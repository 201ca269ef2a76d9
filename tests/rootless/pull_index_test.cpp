// Fixtures published by skopeo in the forms registries serve: a
// multi-platform OCI index (`skopeo copy --all`), and layers compressed with
// gzip and with zstd. `bock pull` picks the platform and runs what it got.
#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "registry.hpp"
#include "testlib.hpp"

using namespace bock::test;

namespace {

std::string make_archive(const std::string& name, const std::string& spec, const std::vector<std::string>& platforms) {
    static int counter = 0;
    std::string dir = tmp_dir();
    std::string out = fmt::format("{}/index-{}.tar", dir, ++counter);
    std::string spec_path = fmt::format("{}/index-{}.spec", dir, counter);
    REQUIRE(bock::fs::write_file(spec_path, spec));
    std::vector<std::string> argv{bin("bock-mkimage"), "--out", out, "--name", name, "--busybox", "--layer", spec_path,
                                  "--cmd", "cat", "--cmd", "/etc/msg"};
    for (const auto& p : platforms) argv.insert(argv.end(), {"--platform", p});
    auto mk = run(argv);
    INFO("bock-mkimage: " << mk.err);
    REQUIRE(mk.code == 0);
    return out;
}

// skopeo copy with extra flags (the registry fixture's publish copies one image).
void skopeo_copy(const LocalRegistry& reg, const std::vector<std::string>& flags, const std::string& archive,
                 const std::string& name_tag) {
    std::string dir = tmp_dir();
    std::vector<std::string> argv{"skopeo", "--tmpdir", dir, "copy", "--quiet", "--dest-tls-verify=false"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), {"oci-archive:" + archive, "docker://" + reg.host() + "/" + name_tag});
    // HOME too: skopeo's blob-info cache would reuse a blob in another form.
    auto r = run(argv, std::nullopt, {"XDG_RUNTIME_DIR=" + dir, "TMPDIR=" + dir, "HOME=" + dir});
    INFO("skopeo copy: " << r.err);
    REQUIRE(r.code == 0);
}

// The layer media types of what the registry serves for NAME:TAG.
std::vector<std::string> layer_types(const LocalRegistry& reg, const std::string& name_tag) {
    std::string dir = tmp_dir();
    auto r = run({"skopeo", "--tmpdir", dir, "inspect", "--raw", "--tls-verify=false", "docker://" + reg.host() + "/" + name_tag},
                 std::nullopt, {"XDG_RUNTIME_DIR=" + dir, "TMPDIR=" + dir});
    INFO("skopeo inspect: " << r.out << r.err);
    REQUIRE(r.code == 0);
    std::vector<std::string> out;
    auto manifest = nlohmann::json::parse(r.out);
    for (const auto& l : manifest.at("layers")) out.push_back(l.at("mediaType"));
    return out;
}

}  // namespace

TEST_CASE("pull picks the platform out of a multi-platform index", "[pull-index]") {
    LocalRegistry reg;
    auto archive = make_archive("localhost/multi:1", "text /etc/msg 0644 0 0 same layers\n",
                                {"linux/amd64", "linux/arm64/v8", "linux/s390x"});
    skopeo_copy(reg, {"--all"}, archive, "multi:1");
    std::string ref = reg.host() + "/multi:1";

    auto pull = cli({"pull", "-q", ref});
    REQUIRE(pull.code == 0);
    auto inspect_arch = [&](const std::string& r) {
        auto j = cli({"images", "--format", "json"});
        REQUIRE(j.code == 0);
        auto list = nlohmann::json::parse(j.out);
        for (const auto& i : list)
            for (const auto& n : i.value("Names", nlohmann::json::array()))
                if (n == r) return i["Id"].get<std::string>();
        return std::string();
    };
    std::string host_id = inspect_arch(ref);
    REQUIRE_FALSE(host_id.empty());
    CHECK(cli({"run", "--rm", ref}).out == "same layers");

    // Another platform is another manifest and config (same layers).
    auto arm = cli({"pull", "-q", "--platform", "linux/arm64/v8", ref});
    REQUIRE(arm.code == 0);
    std::string arm_id = inspect_arch(ref);
    CHECK(arm_id != host_id);
    CHECK(lines(arm.out) == std::vector<std::string>{arm_id});

    // A platform the index lacks: one line naming what it has.
    auto none = cli({"pull", "-q", "--platform", "linux/riscv64", ref});
    CHECK(none.code == 125);
    CHECK_THAT(none.err, Catch::Contains("linux/riscv64") && Catch::Contains("linux/amd64") &&
                             Catch::Contains("linux/s390x"));
}

TEST_CASE("pull gzip and zstd layers published by skopeo", "[pull-index]") {
    for (std::string format : {"gzip", "zstd"}) {
        // A registry each, so that skopeo cannot reuse the other's blobs.
        LocalRegistry reg;
        auto archive = make_archive("localhost/" + format + ":1", "text /etc/msg 0644 0 0 compressed with " + format + "\n",
                                    {});
        skopeo_copy(reg, {"--dest-compress-format", format}, archive, format + ":1");
        auto types = layer_types(reg, format + ":1");
        INFO(format);
        REQUIRE(types.size() == 2);
        for (const auto& t : types) CHECK_THAT(t, Catch::EndsWith(format == "gzip" ? "gzip" : "zstd"));
        std::string ref = reg.host() + "/" + format + ":1";
        REQUIRE(cli({"pull", "-q", ref}).code == 0);
        CHECK(cli({"run", "--rm", ref}).out == "compressed with " + format);
    }
}

TEST_CASE("copy and push reach every transport, docker:// included, keeping digests", "[pull-index]") {
    LocalRegistry reg;
    auto archive = make_archive("localhost/src:1", "text /etc/msg 0644 0 0 copied\n", {});
    reg.publish(archive, "src:1");
    std::string digest = reg.digest_of("src:1");
    std::string dir = tmp_dir();

    // registry -> OCI layout -> registry: the manifest is carried unchanged.
    REQUIRE(cli({"copy", "docker://" + reg.host() + "/src:1", "oci:" + dir + "/layout:t"}).code == 0);
    REQUIRE(cli({"copy", "oci:" + dir + "/layout:t", "docker://" + reg.host() + "/copied:1"}).code == 0);
    CHECK(reg.digest_of("copied:1") == digest);

    // push to the archive transports.
    std::string ref = reg.host() + "/src:1";
    auto to_oci = cli({"push", "-q", ref, "oci-archive:" + dir + "/out.tar:t"});
    REQUIRE(to_oci.code == 0);
    CHECK(lines(to_oci.out) == std::vector<std::string>{digest});
    REQUIRE(cli({"push", "-q", ref, "docker-archive:" + dir + "/out-docker.tar"}).code == 0);
    auto back = cli({"load", "-i", dir + "/out-docker.tar"});
    REQUIRE(back.code == 0);
    CHECK(cli({"run", "--rm", ref}).out == "copied");
}
