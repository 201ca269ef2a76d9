#include "bock/image/oci.hpp"

#include <catch2/catch.hpp>

using namespace bock::image;

static const std::string H1 = std::string(64, '1');
static const std::string H2 = std::string(64, '2');

TEST_CASE("oci: manifest round trip") {
    Manifest m;
    m.media_type = media::oci_manifest;
    m.config = {media::oci_config, *Digest::parse("sha256:" + H1), 123, {}, {}};
    m.layers.push_back({media::oci_layer_gzip, *Digest::parse("sha256:" + H2), 456, {{"a", "b"}}, {}});
    auto text = serialize(m);
    auto back = parse_manifest(text);
    REQUIRE(back);
    CHECK(back->media_type == media::oci_manifest);
    CHECK(back->config.digest.hex == H1);
    CHECK(back->config.size == 123);
    REQUIRE(back->layers.size() == 1);
    CHECK(back->layers[0].annotations.at("a") == "b");
    CHECK(serialize(*back) == text);
}

TEST_CASE("oci: docker schema2 accepted, schema1 refused") {
    std::string s2 = R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
      "config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":7,"digest":"sha256:)" + H1 + R"("},
      "layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":9,"digest":"sha256:)" + H2 + R"("}]})";
    auto m = parse_manifest(s2);
    REQUIRE(m);
    CHECK(m->layers.size() == 1);
    auto s1 = parse_manifest(R"({"schemaVersion":1,"name":"x","fsLayers":[]})");
    REQUIRE_FALSE(s1);
    CHECK(s1.error().message() == "docker schema1 manifests are not supported");
}

TEST_CASE("oci: errors name the field") {
    auto bad = parse_manifest("{not json");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message().find("manifest") != std::string::npos);
    auto nosize = parse_manifest(R"({"schemaVersion":2,"config":{"digest":"sha256:)" + H1 + R"("},"layers":[]})");
    REQUIRE_FALSE(nosize);
    CHECK(nosize.error().message().find("size") != std::string::npos);
    auto baddigest = parse_manifest(R"({"schemaVersion":2,"config":{"digest":"sha256:xyz","size":1},"layers":[]})");
    REQUIRE_FALSE(baddigest);
    CHECK(baddigest.error().message().find("digest") != std::string::npos);
    auto cfg = parse_image_config(R"({"config":{"Env":"notalist"},"rootfs":{"diff_ids":[]}})");
    REQUIRE_FALSE(cfg);
    CHECK(cfg.error().message().find("Env") != std::string::npos);
}

TEST_CASE("oci: image config round trip") {
    ImageConfig c;
    c.architecture = "amd64";
    c.os = "linux";
    c.created = "2024-01-02T03:04:05Z";
    c.env = {"PATH=/bin"};
    c.entrypoint = {"/bin/sh", "-c"};
    c.cmd = {"echo hi"};
    c.working_dir = "/w";
    c.user = "1000:1000";
    c.labels = {{"k", "v"}};
    c.diff_ids = {*Digest::parse("sha256:" + H1)};
    auto back = parse_image_config(serialize(c));
    REQUIRE(back);
    CHECK(back->env == c.env);
    CHECK(back->entrypoint == c.entrypoint);
    CHECK(back->cmd == c.cmd);
    CHECK(back->working_dir == "/w");
    CHECK(back->user == "1000:1000");
    CHECK(back->labels == c.labels);
    CHECK(back->diff_ids == c.diff_ids);
    CHECK(back->created == c.created);
    CHECK(serialize(*back) == serialize(c));
}
