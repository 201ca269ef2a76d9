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
#include "bock/common/strings.hpp"
#include "bock/engine/images.hpp"
#include "bock/image/digest.hpp"
#include "bock/image/reference.hpp"
#include "bock/image/transport.hpp"
#include "stage.hpp"

namespace bock::builder {

namespace {

std::string cache_dir(const engine::Context& ctx) { return fs::join(ctx.store_root, "build-cache"); }

// Images imported from a --cache-from layout are named with this prefix
// and their key (a store name is what an import gives); they belong to the
// cache, which prunes them with its entries.
constexpr std::string_view kImportName = "localhost/bock-build-cache:";

// Where a shared cache lives: an OCI layout directory (`type=local,src=DIR`,
// `type=local,dest=DIR` or DIR) or a registry repository
// (`type=registry,ref=REGISTRY/NAME`), each entry tagged with its key.
struct CacheLocation {
    bool registry = false;
    std::string where;  // the directory, or REGISTRY/NAME
};

Result<CacheLocation> cache_location(const std::string& spec, const char* flag) {
    const bool from = std::string_view(flag) == "--cache-from";
    const std::string example = fmt::format("write {} type=local,{}=DIR or {} type=registry,ref=REGISTRY/NAME", flag,
                                            from ? "src" : "dest", flag);
    if (spec.find('=') == std::string::npos) return CacheLocation{false, spec};
    std::string type = "local";
    CacheLocation loc;
    for (const auto& kv : strings::split(spec, ',')) {
        auto eq = kv.find('=');
        std::string k = kv.substr(0, eq), v = eq == std::string::npos ? "" : kv.substr(eq + 1);
        if (k == "type") type = v;
        else if (k == "src" || k == "dest" || k == "ref") loc.where = v;
        else if (k != "mode" && k != "compression") return make_error("{} {}: unknown option `{}`", flag, spec, k).with_hint(example);
    }
    if (type != "local" && type != "registry")
        return make_error("{} {}: the cache type `{}` is not supported", flag, spec, type).with_hint(example);
    loc.registry = type == "registry";
    if (loc.where.empty()) return make_error("{} {}: no {}", flag, spec, loc.registry ? "ref" : "directory").with_hint(example);
    if (loc.registry) {
        // The repository: a tag or digest given is dropped (each entry is tagged with its key).
        auto ref = BOCK_TRY(image::Reference::parse(loc.where).context(fmt::format("{} {}", flag, spec)));
        loc.where = ref.repository();
    }
    return loc;
}

bool is_key(std::string_view s) {
    return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// The keys a layout holds: its index's ref.name annotations.
Result<std::set<std::string>> layout_keys(const std::string& dir) {
    std::set<std::string> out;
    auto path = fs::join(dir, "index.json");
    if (!fs::exists(path)) return out;
    auto j = nlohmann::json::parse(BOCK_TRY(fs::read_file(path)), nullptr, false);
    if (!j.is_object() || !j.contains("manifests") || !j["manifests"].is_array())
        return make_error("`{}` is not an OCI image index", path).with_hint("give --cache-from a directory written by --cache-to");
    for (const auto& m : j["manifests"])
        if (m.contains("annotations") && m["annotations"].contains("org.opencontainers.image.ref.name")) {
            auto n = m["annotations"]["org.opencontainers.image.ref.name"].get<std::string>();
            if (is_key(n)) out.insert(n);
        }
    return out;
}

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
    // An image with a name of its own (a built image, not only the cache's
    // or the cache's import name) stays: every name counts, since lookup()
    // picks one of them.
    std::set<std::string> named;
    if (!dropped_ids.empty())
        for (const auto& r : BOCK_TRY(ctx.store->list()))
            if (!r.name.empty() && !r.name.starts_with(kImportName)) named.insert(r.config.hex);
    for (const auto& id : dropped_ids) {
        if (kept_ids.count(id)) continue;
        auto rec = BOCK_TRY(ctx.store->lookup(id));
        if (!rec || named.count(rec->config.hex)) continue;
        if (auto r = ctx.store->remove_image(id, false); !r)
            log::warn("remove the cached image {}: {}", id.substr(0, 12), r.error().to_string());
    }
    if (clear) BOCK_TRY(fs::remove_all(fs::join(ctx.store_root, "build-cache-mounts")));
    return removed;
}

Result<void> check_cache_sources(const BuildRequest& req) {
    for (const auto& s : req.cache_from) {
        auto loc = BOCK_TRY(cache_location(s, "--cache-from"));
        if (loc.registry) continue;
        if (!fs::is_dir(loc.where)) log::warn("--cache-from {}: no such directory; the build starts without it", loc.where);
        else BOCK_TRY(layout_keys(loc.where).context("--cache-from"));
    }
    for (const auto& s : req.cache_to) BOCK_TRY(cache_location(s, "--cache-to"));
    return ok();
}

namespace {

// The entry `key` from one --cache-from location into the store; nullopt
// when the location does not hold it.
Result<std::optional<image::ImageRecord>> import_entry(BuildShared& b, const CacheLocation& loc, const std::string& key) {
    if (loc.registry) {
        // A tag the registry lacks is a miss like any other; so is an unreachable registry (said once).
        engine::PullRequest p;
        p.name = loc.where + ":" + key;
        p.access.tls_verify = b.req.tls_verify;
        auto rec = engine::pull_image(b.ctx, p);
        if (!rec) {
            log::debug("--cache-from {}: {}", p.name, rec.error().to_string());
            return std::optional<image::ImageRecord>{};
        }
        return std::optional<image::ImageRecord>{*rec};
    }
    if (!fs::is_dir(loc.where) || !BOCK_TRY(layout_keys(loc.where)).count(key)) return std::optional<image::ImageRecord>{};
    image::Location src;
    src.kind = image::Location::Kind::oci;
    src.path = loc.where;
    src.ref = key;
    auto recs = BOCK_TRY(image::read_into_store(*b.ctx.store, src, std::string(kImportName) + key)
                             .context(fmt::format("import the cache entry {} from `{}`", key.substr(0, 12), loc.where)));
    if (recs.empty()) return std::optional<image::ImageRecord>{};
    return std::optional<image::ImageRecord>{recs[0]};
}

}  // namespace

Result<std::optional<image::ImageRecord>> cache_get(BuildShared& b, const std::string& key) {
    auto rec = BOCK_TRY(cache_lookup(b.ctx, key));
    if (!rec)
        for (const auto& spec : b.cache_from) {
            auto loc = BOCK_TRY(cache_location(spec, "--cache-from"));
            rec = BOCK_TRY(import_entry(b, loc, key));
            if (!rec) continue;
            BOCK_TRY(cache_store(b.ctx, key, *rec));
            break;
        }
    if (rec) {
        std::lock_guard lk(b.mu);
        b.cache_used[key] = *rec;
    }
    return rec;
}

Result<void> cache_put(BuildShared& b, const std::string& key, const image::ImageRecord& rec) {
    BOCK_TRY(cache_store(b.ctx, key, rec));
    std::lock_guard lk(b.mu);
    b.cache_used[key] = rec;
    return ok();
}

Result<void> export_cache(BuildShared& b) {
    std::vector<image::ImageRecord> recs;
    for (const auto& [key, rec] : b.cache_used) {
        if (rec.manifest.hex.empty()) continue;  // scratch with nothing added
        auto r = rec;
        r.name = key;  // the tag in the layout: its ref.name annotation
        recs.push_back(r);
    }
    if (recs.empty()) return ok();
    for (const auto& spec : b.req.cache_to) {
        auto loc = BOCK_TRY(cache_location(spec, "--cache-to"));
        if (loc.registry) {
            // One tag per entry; the registry keeps each blob once.
            for (const auto& r : recs) {
                engine::PushRequest p;
                p.image = r.config.hex;
                p.dest = "docker://" + loc.where + ":" + r.name;
                p.access.tls_verify = b.req.tls_verify;
                BOCK_TRY(engine::push_image(b.ctx, p).context(fmt::format("--cache-to {}", spec)));
            }
        } else {
            image::Location dst;
            dst.kind = image::Location::Kind::oci;
            dst.path = loc.where;
            BOCK_TRY(fs::mkdir_p(dst.path, 0755));
            BOCK_TRY(image::write_from_store(*b.ctx.store, recs, dst).context(fmt::format("--cache-to {}", spec)));
        }
        b.say(fmt::format("--> cache: {} entries written to {}", recs.size(), loc.where));
    }
    return ok();
}

}  // namespace bock::builder
