// Reference counting: names sharing content, layers shared by images,
// containers keeping their image, dangling images, prune and gc.
#include <dirent.h>

#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "bock/image/layer_writer.hpp"
#include "bock/image/store.hpp"
#include "test_util.hpp"

using namespace bock;
using namespace bock::image;
using namespace bock::image::testing;

namespace {

StoreOptions opts() { return test_store_options(); }

std::string layer(const TempDir& t, const std::string& name) {
    std::string path = t / (name + ".tar");
    auto w = LayerWriter::create(path);
    REQUIRE(w);
    REQUIRE(w->add_file(name, name, 0644));
    REQUIRE(w->finish());
    return path;
}

ImageConfig config(const std::string& tag = "") {
    ImageConfig c;
    c.architecture = "amd64";
    c.os = "linux";
    if (!tag.empty()) c.labels["t"] = tag;
    return c;
}

size_t count(const std::string& dir) {
    size_t n = 0;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return 0;
    while (dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
    ::closedir(d);
    return n;
}

Reference ref(const char* s) { return *Reference::parse(s); }

// A lease as the store writes it (written directly: `rec` may be an image
// the store no longer has).
void add_container(const TempDir& t, const std::string& root, const std::string& id, const ImageRecord& rec) {
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& d : rec.diff_ids) layers.push_back(d.str());
    REQUIRE(fs::write_file_atomic(root + "/leases/" + id + ".json",
                                  nlohmann::json{{"holder", id}, {"image", rec.name}, {"image_id", rec.config.hex},
                                                 {"layers", layers}}
                                      .dump()));
    (void)t;
}

// A container record as the front end wrote it before leases existed.
void add_old_record(const std::string& root, const std::string& id, const ImageRecord& rec, bool with_layers) {
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& d : rec.diff_ids) layers.push_back(d.str());
    nlohmann::json j{{"id", id}, {"image", rec.name}, {"status", "exited"}};
    if (with_layers) {
        j["layers"] = layers;
        j["image_id"] = rec.config.hex;
    }
    REQUIRE(fs::mkdir_p(root + "/containers/" + id));
    REQUIRE(fs::write_file_atomic(root + "/containers/" + id + "/container.json", j.dump()));
}

}  // namespace

TEST_CASE("refs: images sharing a layer; removing one keeps the shared layer") {
    TempDir t;
    auto s = Store::open(t / "s", opts());
    REQUIRE(s);
    auto base = layer(t, "base");
    auto a = s->add_image(ref("localhost/a:1"), config("a"), {base, layer(t, "only-a")});
    auto b = s->add_image(ref("localhost/b:1"), config("b"), {base, layer(t, "only-b")});
    REQUIRE(a);
    REQUIRE(b);
    CHECK(count(t / "s/layers") == 3);
    auto r = s->remove_image("localhost/a:1", false);
    REQUIRE(r);
    CHECK(r->untagged == std::vector<std::string>{"localhost/a:1"});
    CHECK(r->deleted == std::vector<std::string>{a->config.str()});
    CHECK(count(t / "s/layers") == 2);
    CHECK(fs::is_dir(s->layer_dirs(*b)[0]));
    REQUIRE(s->remove_image("localhost/b:1", false));
    CHECK(count(t / "s/layers") == 0);
    CHECK(count(t / "s/blobs/sha256") == 0);
}

TEST_CASE("refs: two names of one image; removing one keeps the content") {
    TempDir t;
    auto s = Store::open(t / "s", opts());
    REQUIRE(s);
    auto a = s->add_image(ref("localhost/a:1"), config(), {layer(t, "x")});
    REQUIRE(a);
    auto tagged = s->tag("localhost/a:1", ref("example.com/b:2"));
    REQUIRE(tagged);
    CHECK(tagged->manifest == a->manifest);
    CHECK(s->list()->size() == 2);
    CHECK_FALSE(s->tag("localhost/nope", ref("x:1")));
    auto r = s->remove_image("localhost/a:1", false);
    REQUIRE(r);
    CHECK(r->deleted.empty());
    CHECK(fs::is_dir(s->layer_dirs(*a)[0]));
    CHECK(count(t / "s/blobs/sha256") == 3);
    r = s->remove_image("example.com/b:2", false);
    REQUIRE(r);
    CHECK(r->deleted.size() == 1);
    CHECK(count(t / "s/layers") == 0);
    CHECK(count(t / "s/blobs/sha256") == 0);

    // By id: every name goes at once.
    a = s->add_image(ref("localhost/a:1"), config(), {layer(t, "x")});
    REQUIRE(s->tag("localhost/a:1", ref("localhost/c:1")));
    r = s->remove_image(a->config.hex.substr(0, 12), false);
    REQUIRE(r);
    CHECK(r->untagged.size() == 2);
    CHECK(s->list()->empty());
}

TEST_CASE("refs: a container keeps its image; -f leaves it dangling until the container goes") {
    TempDir t;
    auto s = Store::open(t / "s", opts());
    REQUIRE(s);
    auto a = s->add_image(ref("localhost/a:1"), config(), {layer(t, "x")});
    REQUIRE(a);
    std::string id(64, 'c');
    add_container(t, t / "s", id, *a);
    auto users = s->leases();
    REQUIRE(users);
    REQUIRE(users->size() == 1);
    CHECK((*users)[0].image_id == a->config.hex);
    CHECK((*users)[0].holder == id);

    auto refused = s->remove_image("localhost/a:1", false);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message().find("in use by container cccccccccccc") != std::string::npos);
    CHECK(refused.error().exit_status() == 2);
    // Another name of the image can go: the image stays.
    REQUIRE(s->tag("localhost/a:1", ref("localhost/a:2")));
    REQUIRE(s->remove_image("localhost/a:2", false));

    auto forced = s->remove_image("localhost/a:1", true);
    REQUIRE(forced);
    CHECK(forced->deleted.empty());
    auto list = s->list();
    REQUIRE(list->size() == 1);
    CHECK((*list)[0].name.empty());  // dangling
    CHECK(fs::is_dir(s->layer_dirs(*a)[0]));
    // prune keeps an image a container uses, even with -a.
    CHECK(s->prune(true)->empty());
    CHECK(fs::is_dir(s->layer_dirs(*a)[0]));
    REQUIRE(s->release_lease(id));
    auto pruned = s->prune(false);
    REQUIRE(pruned);
    CHECK(*pruned == std::vector<std::string>{a->config.str()});
    CHECK(count(t / "s/layers") == 0);
    CHECK(count(t / "s/blobs/sha256") == 0);
}

TEST_CASE("refs: a moved name leaves the old image dangling; prune and prune -a") {
    TempDir t;
    auto s = Store::open(t / "s", opts());
    REQUIRE(s);
    auto v1 = s->add_image(ref("localhost/app:latest"), config("1"), {layer(t, "one")});
    auto v2 = s->add_image(ref("localhost/app:latest"), config("2"), {layer(t, "two")});
    auto keep = s->add_image(ref("localhost/keep:1"), config("k"), {layer(t, "k")});
    REQUIRE(v1);
    REQUIRE(v2);
    REQUIRE(keep);
    auto list = *s->list();
    REQUIRE(list.size() == 3);
    size_t dangling = 0;
    for (const auto& r : list) dangling += r.name.empty() && r.manifest == v1->manifest;
    CHECK(dangling == 1);
    // Found by id, gone with prune.
    auto found = s->lookup(v1->config.hex.substr(0, 8));
    REQUIRE(found);
    REQUIRE(*found);
    auto pruned = s->prune(false);
    REQUIRE(pruned);
    CHECK(*pruned == std::vector<std::string>{v1->config.str()});
    CHECK(s->list()->size() == 2);
    CHECK_FALSE(fs::is_dir(s->layer_dirs(*v1)[0]));

    // -a: every image no container uses.
    add_container(t, t / "s", std::string(64, 'd'), *keep);
    pruned = s->prune(true);
    REQUIRE(pruned);
    CHECK(*pruned == std::vector<std::string>{v2->config.str()});
    list = *s->list();
    REQUIRE(list.size() == 1);
    CHECK(list[0].name == "localhost/keep:1");
}

TEST_CASE("refs: gc removes debris no image or container references") {
    TempDir t;
    auto s = Store::open(t / "s", opts());
    REQUIRE(s);
    auto a = s->add_image(ref("localhost/a:1"), config(), {layer(t, "x")});
    REQUIRE(a);
    REQUIRE(fs::write_file_atomic(t / ("s/blobs/sha256/" + std::string(64, 'e')), "orphan"));
    REQUIRE(fs::mkdir_p(t / ("s/layers/" + std::string(64, 'f'))));
    // A container's layers stay even without an image.
    std::string kept(64, '1');
    REQUIRE(fs::mkdir_p(t / ("s/layers/" + kept)));
    ImageRecord ghost;
    ghost.name = "localhost/gone:1";
    ghost.config = *Digest::parse("sha256:" + std::string(64, '2'));
    ghost.diff_ids = {*Digest::parse("sha256:" + kept)};
    add_container(t, t / "s", std::string(64, '3'), ghost);
    REQUIRE(s->gc());
    CHECK_FALSE(fs::exists(t / ("s/blobs/sha256/" + std::string(64, 'e'))));
    CHECK_FALSE(fs::exists(t / ("s/layers/" + std::string(64, 'f'))));
    CHECK(fs::is_dir(t / ("s/layers/" + kept)));
    CHECK(fs::is_dir(s->layer_dirs(*a)[0]));
    CHECK(count(t / "s/blobs/sha256") == 3);
}

TEST_CASE("leases: take under the lock, refused for a removed image, released once") {
    TempDir t;
    auto s = Store::open(t / "s", opts());
    REQUIRE(s);
    auto a = s->add_image(ref("localhost/a:1"), config(), {layer(t, "x")});
    REQUIRE(a);
    std::string id(64, 'a');
    REQUIRE(s->take_lease(id, *a));
    CHECK(fs::exists(t / ("s/leases/" + id + ".json")));
    CHECK_FALSE(s->remove_image("localhost/a:1", false));
    REQUIRE(s->release_lease(id));
    REQUIRE(s->release_lease(id));  // twice is fine
    REQUIRE(s->remove_image("localhost/a:1", false));
    auto refused = s->take_lease(std::string(64, 'b'), *a);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message().find("was removed") != std::string::npos);
    CHECK_FALSE(s->take_lease("../escape", *a));
}

TEST_CASE("leases: gc fails closed on a lease or lease directory it cannot read") {
    TempDir t;
    auto s = Store::open(t / "s", opts());
    REQUIRE(s);
    auto a = s->add_image(ref("localhost/a:1"), config(), {layer(t, "x")});
    REQUIRE(a);
    REQUIRE(s->take_lease(std::string(64, 'a'), *a));
    // A lease that is not JSON: nothing is deleted, the path is named.
    std::string bad = t / ("s/leases/" + std::string(64, 'b') + ".json");
    REQUIRE(fs::write_file(bad, "{ not json"));
    auto r = s->prune(true);
    REQUIRE_FALSE(r);
    CHECK(r.error().to_string().find(bad) != std::string::npos);
    CHECK(s->list()->size() == 1);
    CHECK(fs::is_dir(s->layer_dirs(*a)[0]));
    // A lease that is a directory (read fails).
    REQUIRE(fs::remove_all(bad));
    REQUIRE(fs::mkdir_p(bad));
    CHECK_FALSE(s->prune(true));
    CHECK_FALSE(s->gc());
    CHECK(fs::is_dir(s->layer_dirs(*a)[0]));
    REQUIRE(fs::remove_all(bad));
    // The lease directory replaced by a file.
    REQUIRE(s->release_lease(std::string(64, 'a')));
    REQUIRE(fs::remove_all(t / "s/leases"));
    REQUIRE(fs::write_file(t / "s/leases", "x"));
    r = s->prune(true);
    REQUIRE_FALSE(r);
    CHECK(r.error().to_string().find(t / "s/leases") != std::string::npos);
    CHECK(s->list()->size() == 1);
    CHECK(fs::is_dir(s->layer_dirs(*a)[0]));
}

TEST_CASE("leases: a store written before leases keeps its in-use layers through a gc") {
    TempDir t;
    ImageRecord a, b;
    {
        auto s = Store::open(t / "s", opts());
        REQUIRE(s);
        a = *s->add_image(ref("localhost/a:1"), config("a"), {layer(t, "x")});
        b = *s->add_image(ref("localhost/b:1"), config("b"), {layer(t, "y")});
    }
    // As the older Bock left it: no leases/, records under containers/
    // (one with layers and image id, one from before those were kept).
    REQUIRE(fs::remove_all(t / "s/leases"));
    add_old_record(t / "s", std::string(64, '1'), a, true);
    add_old_record(t / "s", std::string(64, '2'), b, false);
    REQUIRE(fs::mkdir_p(t / ("s/containers/" + std::string(64, '3'))));  // no record yet: uses nothing
    auto s = Store::open(t / "s", opts());
    REQUIRE(s);
    auto leases = s->leases();
    REQUIRE(leases);
    CHECK(leases->size() == 2);
    auto pruned = s->prune(true);
    REQUIRE(pruned);
    CHECK(pruned->empty());
    CHECK(fs::is_dir(s->layer_dirs(a)[0]));
    CHECK(fs::is_dir(s->layer_dirs(b)[0]));
    // Even untagged, the layers stay for the containers.
    REQUIRE(s->remove_image("localhost/a:1", true));
    REQUIRE(s->gc());
    CHECK(fs::is_dir(s->layer_dirs(a)[0]));

    // An old record that cannot be read stops the migration (fail closed).
    TempDir t2;
    {
        auto s2 = Store::open(t2 / "s", opts());
        REQUIRE(s2);
    }
    REQUIRE(fs::remove_all(t2 / "s/leases"));
    REQUIRE(fs::mkdir_p(t2 / ("s/containers/" + std::string(64, '4') + "/container.json")));
    auto refused = Store::open(t2 / "s", opts());
    REQUIRE_FALSE(refused);
    CHECK(refused.error().to_string().find("container.json") != std::string::npos);
    CHECK_FALSE(fs::exists(t2 / "s/leases"));
}
