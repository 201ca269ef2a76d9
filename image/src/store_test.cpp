#include "bock/image/store.hpp"

#include <dirent.h>
#include <fcntl.h>

#include <algorithm>
#include <cstdlib>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "bock/image/archive_writer.hpp"
#include "bock/image/layer_writer.hpp"
#include "test_util.hpp"

using namespace bock;
using namespace bock::image;
using namespace bock::image::testing;

namespace {

StoreOptions store_opts() { return test_store_options(); }

std::string make_layer(const TempDir& t, const std::string& name, const std::string& content) {
    std::string path = t / (name + ".tar");
    auto w = LayerWriter::create(path);
    REQUIRE(w);
    REQUIRE(w->add_dir("etc", 0755));
    REQUIRE(w->add_file("etc/" + name, content, 0644));
    REQUIRE(w->finish());
    return path;
}

ImageConfig sample_config() {
    ImageConfig c;
    c.architecture = "amd64";
    c.os = "linux";
    c.created = "2024-01-02T03:04:05Z";
    c.cmd = {"sh"};
    c.env = {"PATH=/bin"};
    return c;
}

size_t count_entries(const std::string& dir) {
    size_t n = 0;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return 0;
    while (dirent* e = ::readdir(d))
        if (std::string_view(e->d_name) != "." && std::string_view(e->d_name) != "..") n++;
    ::closedir(d);
    return n;
}

}  // namespace

TEST_CASE("layer writer: deterministic digest, whiteouts") {
    TempDir t;
    auto build = [&](const std::string& path) {
        auto w = LayerWriter::create(path);
        REQUIRE(w);
        REQUIRE(w->add_dir("d", 0755, 1, 2));
        REQUIRE(w->add_file("d/f", "abc", 0600));
        REQUIRE(w->add_symlink("d/s", "f"));
        REQUIRE(w->add_whiteout("d/gone"));
        REQUIRE(w->add_opaque("o"));
        auto d = w->finish();
        REQUIRE(d);
        CHECK(*sha256_of_file(path) == *d);
        return *d;
    };
    CHECK(build(t / "a.tar") == build(t / "b.tar"));
    struct archive* a = archive_read_new();
    archive_read_support_format_tar(a);
    REQUIRE(archive_read_open_filename(a, (t / "a.tar").c_str(), 10240) == ARCHIVE_OK);
    std::vector<std::string> names;
    struct archive_entry* e;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) names.emplace_back(archive_entry_pathname(e));
    archive_read_free(a);
    CHECK(std::find(names.begin(), names.end(), "d/.wh.gone") != names.end());
    CHECK(std::find(names.begin(), names.end(), "o/.wh..wh..opq") != names.end());
}

TEST_CASE("store: add, list, lookup, layer_dirs, remove with gc") {
    TempDir t;
    auto store = Store::open(t / "store", store_opts());
    REQUIRE(store);
    auto l1 = make_layer(t, "one", "1");
    auto l2 = make_layer(t, "two", "2");
    auto ref = *Reference::parse("localhost/test:1");
    auto rec = store->add_image(ref, sample_config(), {l1, l2});
    INFO((rec ? "" : rec.error().to_string()));
    REQUIRE(rec);
    CHECK(rec->name == "localhost/test:1");
    CHECK(rec->diff_ids.size() == 2);
    CHECK(rec->created == 1704164645);
    CHECK(rec->size == 2);

    auto list = store->list();
    REQUIRE(list);
    REQUIRE(list->size() == 1);
    CHECK((*list)[0].manifest == rec->manifest);

    auto dirs = store->layer_dirs(*rec);
    REQUIRE(dirs.size() == 2);
    CHECK(*fs::read_file(dirs[0] + "/etc/one") == "1");
    CHECK(*fs::read_file(dirs[1] + "/etc/two") == "2");

    auto by_short = store->lookup("test:1");
    REQUIRE(by_short);
    REQUIRE(*by_short);
    CHECK((*by_short)->name == "localhost/test:1");
    auto by_id = store->lookup(rec->config.hex.substr(0, 6));
    REQUIRE(by_id);
    REQUIRE(*by_id);
    auto missing = store->lookup("other");
    REQUIRE(missing);
    CHECK_FALSE(*missing);
    auto cfg = store->config(*rec);
    REQUIRE(cfg);
    CHECK(cfg->cmd == std::vector<std::string>{"sh"});

    // A second image sharing layer one keeps it alive after the first goes.
    auto rec2 = store->add_image(*Reference::parse("localhost/other"), sample_config(), {l1});
    REQUIRE(rec2);
    auto removed = store->remove("test:1");
    REQUIRE(removed);
    CHECK(*removed == std::vector<std::string>{"localhost/test:1"});
    CHECK(fs::is_dir(dirs[0]));
    CHECK_FALSE(fs::exists(dirs[1]));
    CHECK(fs::exists(t / "store/blobs/sha256/" + rec2->manifest.hex));
    CHECK_FALSE(fs::exists(t / "store/blobs/sha256/" + rec->manifest.hex));
    REQUIRE(store->remove(rec2->config.hex));
    CHECK(count_entries(t / "store/blobs/sha256") == 0);
    CHECK(count_entries(t / "store/layers") == 0);
    CHECK_FALSE(store->remove("localhost/other"));
}

TEST_CASE("store: OCI archive round trip") {
    TempDir t;
    auto a = Store::open(t / "a", store_opts());
    REQUIRE(a);
    auto rec = a->add_image(*Reference::parse("localhost/rt:v1"), sample_config(), {make_layer(t, "x", "x")});
    REQUIRE(rec);
    REQUIRE(a->save_oci_archive(*rec, t / "img.tar"));
    auto b = Store::open(t / "b", store_opts());
    REQUIRE(b);
    auto loaded = b->load_archive(t / "img.tar");
    INFO((loaded ? "" : loaded.error().to_string()));
    REQUIRE(loaded);
    REQUIRE(loaded->size() == 1);
    CHECK((*loaded)[0].name == "localhost/rt:v1");
    CHECK((*loaded)[0].manifest == rec->manifest);
    CHECK((*loaded)[0].config == rec->config);
    CHECK(*fs::read_file(b->layer_dirs((*loaded)[0])[0] + "/etc/x") == "x");
    CHECK(count_entries(t / "b/tmp") == 0);
    // Loading again replaces the reference, no duplicate.
    REQUIRE(b->load_archive(t / "img.tar"));
    CHECK(b->list()->size() == 1);
}

TEST_CASE("store: import an OCI layout directory with a name") {
    TempDir t;
    auto a = Store::open(t / "a", store_opts());
    REQUIRE(a);
    auto rec = a->add_image(*Reference::parse("localhost/dir:1"), sample_config(), {make_layer(t, "d", "d")});
    REQUIRE(rec);
    REQUIRE(a->save_oci_archive(*rec, t / "img.tar"));
    REQUIRE(fs::mkdir_p(t / "layout"));
    REQUIRE(std::system(("tar -xf " + t / "img.tar" + " -C " + t / "layout").c_str()) == 0);
    auto b = Store::open(t / "b", store_opts());
    REQUIRE(b);
    auto imported = b->import_oci_layout(t / "layout", "example.com/renamed:2");
    INFO((imported ? "" : imported.error().to_string()));
    REQUIRE(imported);
    REQUIRE(imported->size() == 1);
    CHECK((*imported)[0].name == "example.com/renamed:2");
    CHECK((*imported)[0].manifest == rec->manifest);
}

TEST_CASE("store: docker-save archive") {
    TempDir t;
    std::string gz = t / "gz.tar";
    REQUIRE(write_tar(gz, {{.path = "etc", .type = AE_IFDIR, .mode = 0755},
                           {.path = "etc/gz", .content = "compressed"}}, true));
    auto parts = make_image_parts(sample_config(), {make_layer(t, "plain", "p")});
    REQUIRE(parts);
    REQUIRE(write_docker_archive(t / "docker.tar", {"myapp:1.0", "quay.io/me/app:2"}, *parts));
    auto s = Store::open(t / "s", store_opts());
    REQUIRE(s);
    auto loaded = s->load_archive(t / "docker.tar");
    INFO((loaded ? "" : loaded.error().to_string()));
    REQUIRE(loaded);
    REQUIRE(loaded->size() == 2);
    CHECK((*loaded)[0].name == "docker.io/library/myapp:1.0");
    CHECK((*loaded)[1].name == "quay.io/me/app:2");
    auto found = s->lookup("myapp:1.0");
    REQUIRE(found);
    REQUIRE(*found);
    CHECK(*fs::read_file(s->layer_dirs(**found)[0] + "/etc/plain") == "p");

    // A gzip layer: the diff_id is the digest of the uncompressed stream.
    std::string raw = t / "raw.tar";
    REQUIRE(std::system(("gzip -dc " + gz + " > " + raw).c_str()) == 0);
    ImageConfig c = sample_config();
    ImageParts p2 = *make_image_parts(c, {raw});
    p2.layers[0].path = gz;
    REQUIRE(write_docker_archive(t / "docker-gz.tar", {"gz:latest"}, p2));
    auto l2 = s->load_archive(t / "docker-gz.tar");
    INFO((l2 ? "" : l2.error().to_string()));
    REQUIRE(l2);
    CHECK(*fs::read_file(s->layer_dirs((*l2)[0])[0] + "/etc/gz") == "compressed");
}

TEST_CASE("store: bad archives are refused and leave nothing behind") {
    TempDir t;
    auto s = Store::open(t / "s", store_opts());
    REQUIRE(s);
    REQUIRE(write_tar(t / "plain.tar", {{.path = "hello.txt", .content = "hi"}}));
    auto r = s->load_archive(t / "plain.tar");
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("is not an image archive: no oci-layout or manifest.json found") !=
          std::string::npos);

    REQUIRE(write_tar(t / "evil.tar", {{.path = "../evil", .content = "x"}}));
    CHECK_FALSE(s->load_archive(t / "evil.tar"));
    CHECK_FALSE(fs::exists(t / "s/evil"));

    // An OCI archive whose layer blob does not match its digest.
    auto parts = make_image_parts(sample_config(), {make_layer(t, "l", "l")});
    REQUIRE(parts);
    std::vector<ArchiveBlob> blobs = {{parts->manifest_digest, {}, parts->manifest_json},
                                      {parts->config_digest, {}, parts->config_json},
                                      {parts->layers[0].digest, {}, "corrupted"}};
    Descriptor md{media::oci_manifest, parts->manifest_digest, static_cast<int64_t>(parts->manifest_json.size()), {}, {}};
    REQUIRE(write_oci_archive(t / "bad.tar", {{"localhost/bad:1", md}}, blobs));
    auto bad = s->load_archive(t / "bad.tar");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message().find("mismatch") != std::string::npos);
    CHECK(s->list()->empty());
    // The next writer clears tmp/.
    REQUIRE(s->add_image(*Reference::parse("localhost/ok"), sample_config(), {make_layer(t, "ok", "ok")}));
    CHECK(count_entries(t / "s/tmp") == 0);
    CHECK(s->list()->size() == 1);
}
