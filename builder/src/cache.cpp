// The layer cache (see stage.hpp). An entry is written after the step's
// image is in the store's index, so a crash between the two leaves a
// dangling image and no entry (the next build makes the step again); the
// image an entry names is an ordinary stored image, kept by gc while it is
// in the index and removed by `bock image prune` like any dangling image.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <ctime>
#include <set>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
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
    auto rec = BOCK_TRY(ctx.store->lookup(id));
    if (rec) ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0);  // last used: now (for prune --max-age)
    return rec;
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

Result<std::vector<CacheEntry>> cache_list(engine::Context& ctx) {
    std::vector<CacheEntry> out;
    auto dir = cache_dir(ctx);
    if (!fs::is_dir(dir)) return out;
    for (const auto& key : BOCK_TRY(fs::list_dir(dir))) {
        if (key.size() != 64) continue;  // temporary files of an atomic write
        CacheEntry e;
        e.key = key;
        auto path = fs::join(dir, key);
        struct stat st;
        if (::stat(path.c_str(), &st) == 0) e.used = st.st_mtim.tv_sec;
        auto id = fs::read_file(path);
        if (!id) continue;
        e.image_id = id->substr(0, id->find('\n'));
        if (e.image_id.size() == 64)
            if (auto rec = BOCK_TRY(ctx.store->lookup(e.image_id))) {
                e.valid = true;
                e.size = rec->size;
            }
        out.push_back(std::move(e));
    }
    std::sort(out.begin(), out.end(), [](const CacheEntry& a, const CacheEntry& b) { return a.used > b.used; });
    return out;
}

Result<int> cache_prune(engine::Context& ctx, std::optional<int64_t> max_age, bool clear) {
    int removed = 0;
    int64_t now = ::time(nullptr);
    std::set<std::string> kept_ids, dropped_ids;
    for (const auto& e : BOCK_TRY(cache_list(ctx))) {
        if (max_age && now - e.used <= *max_age) {
            kept_ids.insert(e.image_id);
            continue;
        }
        // The entry first: a crash after it leaves a dangling image `bock image prune` removes.
        if (::unlink(fs::join(cache_dir(ctx), e.key).c_str()) < 0 && errno != ENOENT)
            return errno_error("remove the cache entry {}", e.key.substr(0, 12));
        removed++;
        if (e.valid) dropped_ids.insert(e.image_id);
    }
    for (const auto& id : dropped_ids) {
        if (kept_ids.count(id)) continue;
        auto rec = BOCK_TRY(ctx.store->lookup(id));
        if (!rec || !rec->name.empty()) continue;  // tagged: a built image, not only the cache's
        if (auto r = ctx.store->remove_image(id, false); !r)
            log::warn("remove the cached image {}: {}", id.substr(0, 12), r.error().to_string());
    }
    if (clear) BOCK_TRY(fs::remove_all(fs::join(ctx.store_root, "build-cache-mounts")));
    return removed;
}

}  // namespace bock::builder
