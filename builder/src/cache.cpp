// The layer cache (see stage.hpp). An entry is written after the step's
// image is in the store's index, so a crash between the two leaves a
// dangling image and no entry (the next build makes the step again); the
// image an entry names is an ordinary stored image, kept by gc while it is
// in the index and removed by `bock image prune` like any dangling image.
#include "bock/common/fs.hpp"
#include "bock/image/digest.hpp"
#include "stage.hpp"

namespace bock::builder {

namespace {

std::string cache_dir(const engine::Context& ctx) { return fs::join(ctx.store_root, "build-cache"); }

}  // namespace

std::string chain_key(const std::string& parent, std::string_view step) {
    image::Sha256 h;
    h.update(parent);
    h.update("\n");
    h.update(step);
    return h.finish().hex;
}

Result<std::optional<image::ImageRecord>> cache_lookup(engine::Context& ctx, const std::string& key) {
    auto path = fs::join(cache_dir(ctx), key);
    if (!fs::exists(path)) return std::optional<image::ImageRecord>{};
    auto id = BOCK_TRY(fs::read_file(path));
    while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
    if (id.size() != 64) return std::optional<image::ImageRecord>{};
    return ctx.store->lookup(id);
}

Result<void> cache_store(engine::Context& ctx, const std::string& key, const image::ImageRecord& rec) {
    BOCK_TRY(fs::mkdir_p(cache_dir(ctx), 0700));
    return fs::write_file_atomic(fs::join(cache_dir(ctx), key), rec.config.hex + "\n", 0600);
}

Result<nlohmann::json> image_config_object(engine::Context& ctx, const image::ImageRecord& rec) {
    if (rec.manifest.hex.empty()) return nlohmann::json::object();
    auto text = BOCK_TRY(fs::read_file(fs::join(ctx.store_root, "blobs/sha256/" + rec.config.hex)));
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object()) return make_error("the config of image {} is not JSON", rec.config.hex.substr(0, 12));
    if (!j.contains("config") || !j["config"].is_object()) return nlohmann::json::object();
    return j["config"];
}

}  // namespace bock::builder
