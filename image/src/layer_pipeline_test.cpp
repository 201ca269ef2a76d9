#include "layer_pipeline.hpp"

#include <dirent.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>

#include "bock/common/fs.hpp"
#include "test_util.hpp"

using namespace bock;
using namespace bock::image;
using namespace bock::image::detail;
using namespace bock::image::testing;

namespace {

struct Layer {
    std::string blob;  // gzip'ed tar
    Descriptor desc;
    Digest diff_id;
};

Layer make_layer(const TempDir& t, const std::string& name, size_t size) {
    std::string content;
    uint32_t x = static_cast<uint32_t>(std::hash<std::string>{}(name)) | 1;
    for (size_t i = 0; i < size; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        content += static_cast<char>(x);
    }
    REQUIRE(write_tar(t / (name + ".tar"), {{.path = "f-" + name, .content = content}}));
    REQUIRE(write_tar(t / (name + ".tgz"), {{.path = "f-" + name, .content = content}}, true));
    Layer l;
    l.blob = *fs::read_file(t / (name + ".tgz"));
    l.desc.media_type = media::oci_layer_gzip;
    l.desc.digest = sha256_of(l.blob);
    l.desc.size = static_cast<int64_t>(l.blob.size());
    l.diff_id = sha256_of(*fs::read_file(t / (name + ".tar")));
    return l;
}

size_t entries(const std::string& dir) {
    size_t n = 0;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (dirent* e = ::readdir(d)) n += std::string_view(e->d_name) != "." && std::string_view(e->d_name) != "..";
        ::closedir(d);
    }
    return n;
}

// Serves blobs from memory in 64 KiB pieces; `corrupt` flips a byte of that
// digest's blob.
BlobFetcherFactory serve(const std::vector<Layer>& layers, std::string corrupt = {},
                         std::atomic<int>* calls = nullptr) {
    return [=]() -> BlobFetcher {
        return [=](const Descriptor& d, const BlobSink& sink) -> Result<void> {
            if (calls) ++*calls;
            for (const auto& l : layers) {
                if (l.desc.digest != d.digest) continue;
                std::string data = l.blob;
                if (d.digest.str() == corrupt) data[data.size() / 2] ^= 1;
                for (size_t off = 0; off < data.size(); off += 65536)
                    BOCK_TRY(sink(data.data() + off, std::min<size_t>(65536, data.size() - off)));
                return ok();
            }
            return make_error("no such blob");
        };
    };
}

StorePaths store(const TempDir& t) {
    StorePaths p{t / "store"};
    REQUIRE(fs::mkdir_p(p.blobs(), 0700));
    REQUIRE(fs::mkdir_p(p.layers(), 0700));
    REQUIRE(fs::mkdir_p(p.tmp(), 0700));
    return p;
}

PipelineOptions options(std::vector<BlobEvent>* events = nullptr, std::mutex* mu = nullptr) {
    PipelineOptions o;
    o.parallel = 3;
    o.store.rootless = ::getuid() != 0;
    o.store.single_id = ::getuid() != 0;
    if (events)
        o.on_blob = [events, mu](const BlobEvent& e) {
            std::lock_guard g(*mu);
            events->push_back(e);
        };
    return o;
}

}  // namespace

TEST_CASE("the pipeline downloads, stores and extracts layers in parallel", "[pipeline]") {
    TempDir t;
    auto p = store(t);
    std::vector<Layer> layers{make_layer(t, "a", 300000), make_layer(t, "b", 100), make_layer(t, "c", 700000),
                              make_layer(t, "d", 5000)};
    std::vector<LayerJob> jobs;
    for (const auto& l : layers) jobs.push_back({l.desc, l.diff_id, true, true});
    std::vector<BlobEvent> events;
    std::mutex mu;
    REQUIRE(run_layer_pipeline(p, jobs, serve(layers), options(&events, &mu)));
    for (const auto& l : layers) {
        CHECK(*fs::read_file(p.blob(l.desc.digest)) == l.blob);
        CHECK(fs::is_dir(p.layer(l.diff_id)));
    }
    CHECK(fs::exists(p.layer(layers[2].diff_id) + "/f-c"));
    CHECK(entries(p.tmp()) == 0);
    size_t done = 0;
    for (const auto& e : events) done += e.stage == BlobEvent::Stage::done;
    CHECK(done == 4);

    SECTION("what is stored is not downloaded again") {
        std::atomic<int> calls{0};
        for (auto& j : jobs) j.need_blob = j.need_layer = false;
        // A layer directory lost (e.g. killed between the two renames) is
        // extracted again from its stored blob, without a download.
        REQUIRE(fs::remove_all(p.layer(layers[1].diff_id)));
        jobs[1].need_layer = true;
        REQUIRE(run_layer_pipeline(p, jobs, serve(layers, {}, &calls), options()));
        CHECK(calls == 0);
        CHECK(fs::exists(p.layer(layers[1].diff_id) + "/f-b"));
    }
}

TEST_CASE("a corrupt blob fails the pull and leaves nothing but finished layers", "[pipeline]") {
    TempDir t;
    auto p = store(t);
    std::vector<Layer> layers{make_layer(t, "x", 400000), make_layer(t, "y", 400000), make_layer(t, "z", 400000)};
    std::vector<LayerJob> jobs;
    for (const auto& l : layers) jobs.push_back({l.desc, l.diff_id, true, true});
    auto r = run_layer_pipeline(p, jobs, serve(layers, layers[1].desc.digest.str()), options());
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().to_string(), Catch::Contains(layers[1].desc.digest.str()));
    CHECK_FALSE(fs::exists(p.blob(layers[1].desc.digest)));
    CHECK_FALSE(fs::is_dir(p.layer(layers[1].diff_id)));
    CHECK(entries(p.tmp()) == 0);  // no tmp debris either: every job cleaned up

    SECTION("a wrong diff_id is refused after extraction, before the rename") {
        // Blob y announced as the layer with x's diff_id.
        std::vector<LayerJob> bad{{layers[1].desc, layers[0].diff_id, true, true}};
        (void)fs::remove_all(p.layer(layers[0].diff_id));
        auto r2 = run_layer_pipeline(p, bad, serve(layers), options());
        REQUIRE_FALSE(r2);
        CHECK_THAT(r2.error().to_string(), Catch::Contains("diff_id mismatch"));
        CHECK_FALSE(fs::is_dir(p.layer(layers[0].diff_id)));
        CHECK(entries(p.tmp()) == 0);
    }
}
