// Transport names, and round trips through oci:, oci-archive: and
// docker-archive: that keep digests (OCI forms) and diff_ids (docker).
#include "bock/image/transport.hpp"

#include <dirent.h>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "bock/image/archive_writer.hpp"
#include "bock/image/layer_writer.hpp"
#include "test_util.hpp"

using namespace bock;
using namespace bock::image;
using namespace bock::image::testing;
using Kind = Location::Kind;

namespace {

StoreOptions opts() { return test_store_options(); }

std::string layer(const TempDir& t, const std::string& name) {
    std::string path = t / (name + ".tar");
    auto w = LayerWriter::create(path);
    REQUIRE(w);
    REQUIRE(w->add_dir("etc", 0755));
    REQUIRE(w->add_file("etc/" + name, name, 0644));
    REQUIRE(w->finish());
    return path;
}

ImageConfig config() {
    ImageConfig c;
    c.architecture = "amd64";
    c.os = "linux";
    c.created = "2024-01-02T03:04:05Z";
    c.cmd = {"sh"};
    return c;
}

Location loc(Kind k, std::string path, std::string ref = {}) {
    Location l;
    l.kind = k;
    l.path = std::move(path);
    l.ref = std::move(ref);
    return l;
}

std::string err(const Error& e) { return e.to_string(); }

}  // namespace

TEST_CASE("transport: names as skopeo parses them") {
    auto l = Location::parse("oci:/tmp/dir:v1");
    REQUIRE(l);
    CHECK(l->kind == Kind::oci);
    CHECK(l->path == "/tmp/dir");
    CHECK(l->ref == "v1");
    l = Location::parse("oci:relative");
    REQUIRE(l);
    CHECK(l->path == "relative");
    CHECK(l->ref.empty());
    l = Location::parse("oci-archive:/x/a.tar:latest");
    REQUIRE(l);
    CHECK(l->kind == Kind::oci_archive);
    CHECK(l->path == "/x/a.tar");
    CHECK(l->ref == "latest");
    // The path ends at the first ':'; the rest is a docker reference.
    l = Location::parse("docker-archive:out.tar:localhost:5000/a/b:c");
    REQUIRE(l);
    CHECK(l->kind == Kind::docker_archive);
    CHECK(l->path == "out.tar");
    CHECK(l->ref == "localhost:5000/a/b:c");
    l = Location::parse("docker-archive:multi.tar:@1");
    REQUIRE(l);
    CHECK(l->ref == "@1");
    l = Location::parse("docker://127.0.0.1:5000/img:tag");
    REQUIRE(l);
    CHECK(l->kind == Kind::docker);
    CHECK(l->ref == "127.0.0.1:5000/img:tag");
    CHECK(l->str() == "docker://127.0.0.1:5000/img:tag");
    // Bare names, including ones with a registry port, are local.
    for (const char* s : {"busybox", "busybox:1.36", "localhost:5000/x:y", "sha256:0123abcd"}) {
        l = Location::parse(s);
        REQUIRE(l);
        CHECK(l->kind == Kind::local);
        CHECK(l->ref == s);
    }
    CHECK_FALSE(Location::parse("docker:busybox"));
    CHECK_FALSE(Location::parse("oci:"));
    CHECK_FALSE(Location::parse("oci:dir:"));
    auto bad = Location::parse("dir:/tmp/x");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message().find("not supported") != std::string::npos);
}

TEST_CASE("transport: oci-archive and oci dir keep the manifest digest") {
    TempDir t;
    auto a = Store::open(t / "a", opts());
    REQUIRE(a);
    auto rec = a->add_image(*Reference::parse("localhost/rt:1"), config(), {layer(t, "one"), layer(t, "two")});
    REQUIRE(rec);

    REQUIRE(write_from_store(*a, {*rec}, loc(Kind::oci_archive, t / "img.tar")));
    auto b = Store::open(t / "b", opts());
    REQUIRE(b);
    auto loaded = read_into_store(*b, loc(Kind::oci_archive, t / "img.tar"));
    INFO((loaded ? "" : err(loaded.error())));
    REQUIRE(loaded);
    REQUIRE(loaded->size() == 1);
    CHECK((*loaded)[0].name == "localhost/rt:1");
    CHECK((*loaded)[0].manifest == rec->manifest);

    // An OCI layout with two tags: replacing one keeps the other.
    auto other = a->add_image(*Reference::parse("localhost/other:1"), config(), {layer(t, "three")});
    REQUIRE(other);
    REQUIRE(write_from_store(*a, {*rec}, loc(Kind::oci, t / "layout", "first")));
    REQUIRE(write_from_store(*a, {*other}, loc(Kind::oci, t / "layout", "second")));
    REQUIRE(write_from_store(*a, {*other}, loc(Kind::oci, t / "layout", "first")));
    auto index = nlohmann::json::parse(*fs::read_file(t / "layout/index.json"));
    CHECK(index["manifests"].size() == 2);
    auto got = read_into_store(*b, loc(Kind::oci, t / "layout", "second"), "localhost/second:x");
    REQUIRE(got);
    CHECK((*got)[0].manifest == other->manifest);
    // Named from the directory and the tag when the annotation is a bare tag.
    got = read_into_store(*b, loc(Kind::oci, t / "layout", "first"));
    REQUIRE(got);
    CHECK((*got)[0].name == "localhost/layout:first");
    auto missing = read_into_store(*b, loc(Kind::oci, t / "layout", "nope"));
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message().find("no image tagged `nope`") != std::string::npos);

    // oci dir -> oci-archive without the store: same digest.
    auto d = copy_image(*b, loc(Kind::oci, t / "layout", "second"), loc(Kind::oci_archive, t / "copy.tar", "c"));
    REQUIRE(d);
    CHECK(*d == other->manifest.str());
    // A non-layout, non-empty directory is refused.
    REQUIRE(fs::mkdir_p(t / "notlayout"));
    REQUIRE(fs::write_file_atomic(t / "notlayout/file", "x"));
    CHECK_FALSE(write_from_store(*a, {*rec}, loc(Kind::oci, t / "notlayout")));
}

TEST_CASE("transport: docker-archive keeps diff_ids and decompresses layers") {
    TempDir t;
    // A store image with a gzip layer (loaded from a docker archive).
    std::string gz = t / "gz.tar";
    REQUIRE(write_tar(gz, {{.path = "etc", .type = AE_IFDIR, .mode = 0755}, {.path = "etc/gz", .content = "zipped"}},
                      true));
    std::string raw = t / "raw.tar";
    REQUIRE(std::system(("gzip -dc " + gz + " > " + raw).c_str()) == 0);
    ImageParts parts = *make_image_parts(config(), {layer(t, "plain"), raw});
    parts.layers[1].path = gz;
    REQUIRE(write_docker_archive(t / "in.tar", {"gz:1"}, parts));
    auto a = Store::open(t / "a", opts());
    REQUIRE(a);
    auto in = a->load_archive(t / "in.tar");
    INFO((in ? "" : err(in.error())));
    REQUIRE(in);
    auto rec = (*in)[0];
    auto second = a->add_image(*Reference::parse("localhost/second:1"), config(), {layer(t, "s")});
    REQUIRE(second);

    // Two images in one `docker save` archive.
    REQUIRE(write_from_store(*a, {rec, *second}, loc(Kind::docker_archive, t / "out.tar")));
    CHECK_FALSE(fs::exists(t / "out.tar.tmp"));
    auto b = Store::open(t / "b", opts());
    REQUIRE(b);
    auto back = read_into_store(*b, loc(Kind::docker_archive, t / "out.tar"));
    INFO((back ? "" : err(back.error())));
    REQUIRE(back);
    REQUIRE(back->size() == 2);
    CHECK((*back)[0].name == "docker.io/library/gz:1");
    CHECK((*back)[0].diff_ids == rec.diff_ids);
    CHECK((*back)[0].config == rec.config);  // the config is copied unchanged: same image id
    CHECK((*back)[1].name == "localhost/second:1");
    CHECK(*fs::read_file(b->layer_dirs((*back)[0])[1] + "/etc/gz") == "zipped");
    // Layers are plain tars named by diff_id.
    auto m = nlohmann::json::parse(*fs::read_file(t / "b/blobs/sha256/" + (*back)[0].manifest.hex));
    for (const auto& l : m["layers"]) CHECK(l["mediaType"] == media::oci_layer_tar);

    // Picking one image of a multi-image archive: by name or by index.
    auto c = Store::open(t / "c", opts());
    REQUIRE(c);
    auto one = read_into_store(*c, loc(Kind::docker_archive, t / "out.tar", "@1"));
    REQUIRE(one);
    REQUIRE(one->size() == 1);
    CHECK((*one)[0].name == "localhost/second:1");
    one = read_into_store(*c, loc(Kind::docker_archive, t / "out.tar", "gz:1"), "localhost/renamed:2");
    REQUIRE(one);
    CHECK((*one)[0].name == "localhost/renamed:2");
    CHECK_FALSE(read_into_store(*c, loc(Kind::docker_archive, t / "out.tar", "@7")));
}

TEST_CASE("transport: a failed write leaves no file, a failed read leaves the store as it was") {
    TempDir t;
    auto a = Store::open(t / "a", opts());
    REQUIRE(a);
    auto rec = a->add_image(*Reference::parse("localhost/x:1"), config(), {layer(t, "x")});
    REQUIRE(rec);
    // Corrupt the stored layer blob: the writer's digest check fails mid-way.
    auto m = nlohmann::json::parse(*fs::read_file(t / "a/blobs/sha256/" + rec->manifest.hex));
    std::string blob = t / "a/blobs/sha256/" + m["layers"][0]["digest"].get<std::string>().substr(7);
    std::string good = *fs::read_file(blob);
    std::string bad = good;
    bad[600] ^= 1;
    REQUIRE(fs::write_file_atomic(blob, bad));
    for (Kind k : {Kind::oci_archive, Kind::docker_archive}) {
        auto w = write_from_store(*a, {*rec}, loc(k, t / "out.tar"));
        REQUIRE_FALSE(w);
        CHECK(w.error().message().find("mismatch") != std::string::npos);
        size_t left = 0;
        for (const auto& n : {"out.tar"}) left += fs::exists(t / n);
        CHECK(left == 0);
        auto dir = opendir(t.path.c_str());
        while (auto e = readdir(dir)) CHECK(std::string_view(e->d_name).find("out.tar") == std::string_view::npos);
        closedir(dir);
    }
    REQUIRE(fs::write_file_atomic(blob, good));

    // A two-image archive whose second image is broken: nothing is stored.
    auto other = a->add_image(*Reference::parse("localhost/y:1"), config(), {layer(t, "y")});
    REQUIRE(other);
    REQUIRE(write_from_store(*a, {*rec, *other}, loc(Kind::oci, t / "layout")));
    auto om = nlohmann::json::parse(*fs::read_file(t / "layout/blobs/sha256/" + other->manifest.hex));
    std::string oblob = t / "layout/blobs/sha256/" + om["layers"][0]["digest"].get<std::string>().substr(7);
    REQUIRE(fs::write_file_atomic(oblob, "broken"));
    auto b = Store::open(t / "b", opts());
    REQUIRE(b);
    auto r = read_into_store(*b, loc(Kind::oci, t / "layout"));
    REQUIRE_FALSE(r);
    CHECK(b->list()->empty());
    auto count = [&](const std::string& d) {
        size_t n = 0;
        auto dir = opendir(d.c_str());
        while (auto e = readdir(dir)) n += e->d_name[0] != '.';
        closedir(dir);
        return n;
    };
    CHECK(count(t / "b/blobs/sha256") == 0);
    CHECK(count(t / "b/layers") == 0);
}

TEST_CASE("transport: docker:// goes through the copy hooks, or is refused as not wired") {
    TempDir t;
    auto s = Store::open(t / "s", opts());
    REQUIRE(s);
    auto rec = s->add_image(*Reference::parse("localhost/h:1"), config(), {layer(t, "h")});
    REQUIRE(rec);
    auto reg = *Location::parse("docker://127.0.0.1:5000/h:1");
    auto unwired = copy_image(*s, reg, loc(Kind::oci, t / "l", "x"));
    REQUIRE_FALSE(unwired);
    CHECK(unwired.error().message().find("not wired") != std::string::npos);

    CopyHooks hooks;
    std::vector<std::string> pulled, pushed;
    hooks.pull = [&](const Reference& r) -> Result<ImageRecord> {
        pulled.push_back(r.str());
        return *rec;
    };
    hooks.push = [&](const ImageRecord& i, const Reference& r) -> Result<void> {
        pushed.push_back(i.manifest.str() + " " + r.str());
        return ok();
    };
    auto d = copy_image(*s, reg, loc(Kind::oci, t / "l", "x"), hooks);
    REQUIRE(d);
    CHECK(pulled == std::vector<std::string>{"127.0.0.1:5000/h:1"});
    CHECK(fs::exists(t / ("l/blobs/sha256/" + rec->manifest.hex)));
    REQUIRE(copy_image(*s, loc(Kind::oci, t / "l", "x"), reg, hooks));
    REQUIRE(pushed.size() == 1);
    CHECK(pushed[0] == rec->manifest.str() + " 127.0.0.1:5000/h:1");
}
