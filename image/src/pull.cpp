// Store::pull: resolves the reference on the registry (index -> the
// manifest for the platform) and fetches the config, then, holding the
// store's writer lock, runs the layer pipeline (layer_pipeline.hpp: parallel
// downloads streamed into blobs/ and into extraction at once) for what the
// store lacks, stores config and manifest, syncs, and updates the index last.
#include <fcntl.h>
#include <unistd.h>

#include <set>
#include <string>

#include "bock/common/fs.hpp"
#include "bock/common/sys.hpp"
#include "bock/image/registry.hpp"
#include "bock/image/store.hpp"
#include "layer_pipeline.hpp"
#include "registry_client.hpp"
#include "store_internal.hpp"

namespace bock::image {

using nlohmann::json;

Result<Platform> Platform::parse(std::string_view s) {
    Platform p;
    std::vector<std::string> parts;
    size_t i = 0;
    while (i <= s.size()) {
        size_t j = s.find('/', i);
        if (j == std::string_view::npos) j = s.size();
        parts.emplace_back(s.substr(i, j - i));
        i = j + 1;
    }
    if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty() ||
        (parts.size() == 3 && parts[2].empty()))
        return make_error("platform `{}`: expected os/arch[/variant], e.g. linux/amd64", s);
    p.os = parts[0];
    p.architecture = parts[1];
    if (parts.size() == 3) p.variant = parts[2];
    return p;
}

Platform Platform::host() {
#if defined(__x86_64__)
    return {"linux", "amd64", ""};
#elif defined(__aarch64__)
    return {"linux", "arm64", ""};
#elif defined(__i386__)
    return {"linux", "386", ""};
#else
    return {"linux", "unknown", ""};
#endif
}

std::string Platform::str() const { return os + "/" + architecture + (variant.empty() ? "" : "/" + variant); }

bool Platform::matches(const json& platform) const {
    if (!platform.is_object()) return false;
    auto get = [&](const char* k) {
        auto it = platform.find(k);
        return it != platform.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    return get("os") == os && get("architecture") == architecture && (variant.empty() || get("variant") == variant);
}

bool is_loopback_registry(std::string_view domain) {
    std::string_view host = domain;
    if (host.starts_with("[")) {
        host = host.substr(1, host.find(']') - 1);
    } else if (auto c = host.rfind(':'); c != std::string_view::npos && host.find(':') == c) {
        host = host.substr(0, c);  // "host:port" (an IPv6 literal has several ':')
    }
    return host == "localhost" || host.starts_with("127.") || host == "::1";
}

namespace detail {

namespace {

// The manifest of `platform` out of an index the registry sent.
Result<Descriptor> pick_from_index(const FetchedManifest& index, const Platform& platform) {
    std::vector<std::string> seen;
    try {
        auto j = json::parse(index.body);
        for (const auto& m : j.at("manifests")) {
            auto d = BOCK_TRY(parse_descriptor(m));
            if (d.platform && platform.matches(*d.platform)) return d;
            if (d.platform) seen.push_back(d.platform->value("os", "?") + "/" + d.platform->value("architecture", "?"));
        }
    } catch (const json::exception& e) {
        return make_error("index {}: {}", index.digest.str(), e.what());
    }
    return make_error("index {}: no manifest for {} (it has: {})", index.digest.str(), platform.str(),
                      seen.empty() ? "none" : fmt::format("{}", fmt::join(seen, ", ")));
}

Result<FetchedManifest> resolve_manifest(RegistryClient& client, const Reference& ref, const PullOptions& opts) {
    auto m = BOCK_TRY(client.get_manifest(ref.digest.empty() ? ref.tag : ref.digest));
    auto kind = manifest_kind(m);
    if (kind == ManifestKind::index) {
        auto d = BOCK_TRY(pick_from_index(m, opts.platform.value_or(Platform::host())));
        m = BOCK_TRY(client.get_manifest(d.digest.str()));
        if (static_cast<int64_t>(m.body.size()) != d.size)
            return make_error("manifest {}: size mismatch (index says {}, got {})", d.digest.str(), d.size,
                              m.body.size());
        kind = manifest_kind(m);
    }
    if (kind == ManifestKind::schema1)
        return make_error("docker schema1 manifests are not supported (an image pushed by a docker older than 1.10)");
    if (kind != ManifestKind::image)
        return make_error("manifest {}: unsupported media type `{}`", m.digest.str(), m.media_type);
    return m;
}

// The image config, downloaded into memory (it is small) and verified.
Result<std::string> fetch_config(RegistryClient& client, const Descriptor& d, const PullOptions& opts) {
    constexpr int64_t max_config = 64 << 20;
    if (d.size < 0 || d.size > max_config)
        return make_error("config {}: {} bytes is not a plausible image config", d.digest.str(), d.size);
    BlobEvent e;
    e.digest = d.digest.str();
    e.size = d.size;
    e.config = true;
    if (opts.on_blob) opts.on_blob(e);
    std::string text;
    BOCK_TRY(client.get_blob(d, [&](const char* data, size_t len) -> Result<void> {
        if (static_cast<int64_t>(text.size() + len) > d.size)
            return make_error("config {}: larger than its descriptor says ({} bytes)", d.digest.str(), d.size);
        text.append(data, len);
        return ok();
    }));
    if (static_cast<int64_t>(text.size()) != d.size)
        return make_error("config {}: size mismatch (descriptor says {}, got {})", d.digest.str(), d.size, text.size());
    if (auto got = sha256_of(text); got != d.digest)
        return make_error("config {}: digest mismatch (got {})", d.digest.str(), got.str());
    e.stage = BlobEvent::Stage::done;
    e.bytes = d.size;
    if (opts.on_blob) opts.on_blob(e);
    return text;
}

}  // namespace

Result<ImageRecord> pull_image(const StorePaths& p, const Reference& ref, const PullOptions& opts,
                               const StoreOptions& so) {
    auto say = [&](std::string_view line) {
        if (opts.progress) opts.progress(line);
    };
    const Reference& from = opts.source ? *opts.source : ref;  // a mirror (registries.conf)
    RegistryClient client(from.domain, from.path, opts);
    // The manifest and the config first, without the lock: a missing tag,
    // an unreachable registry or a bad config leave the store untouched.
    auto m = BOCK_TRY(resolve_manifest(client, ref, opts));
    auto manifest = BOCK_TRY_CTX(parse_manifest(m.body), fmt::format("manifest {}", m.digest.str()));
    auto ctext = BOCK_TRY(fetch_config(client, manifest.config, opts));
    auto config = BOCK_TRY_CTX(parse_image_config(ctext), fmt::format("config {}", manifest.config.digest.str()));
    if (config.diff_ids.size() != manifest.layers.size())
        return make_error("manifest {} has {} layers but its config lists {} diff_ids", m.digest.str(),
                          manifest.layers.size(), config.diff_ids.size());

    auto session = BOCK_TRY(WriteSession::begin(p));
    NewContentGuard guard(p);  // a refused image (digest, hostile layer) leaves the store as it was
    // What is missing now that we hold the lock (another pull may have
    // stored it while we waited): a layer needs its blob (kept for push)
    // and its extracted directory.
    std::vector<LayerJob> jobs;
    std::set<std::string> seen;
    for (size_t i = 0; i < manifest.layers.size(); i++) {
        if (!seen.insert(manifest.layers[i].digest.hex + config.diff_ids[i].hex).second) continue;
        LayerJob j;
        j.blob = manifest.layers[i];
        j.diff_id = config.diff_ids[i];
        j.need_blob = !fs::exists(p.blob(j.blob.digest));
        j.need_layer = !fs::is_dir(p.layer(j.diff_id));
        jobs.push_back(std::move(j));
    }
    PipelineOptions po;
    po.parallel = opts.parallel ? opts.parallel : default_pull_parallel();
    po.store = so;
    po.on_blob = opts.on_blob;
    BlobFetcherFactory factory = [&]() -> BlobFetcher {
        // RegistryClient is thread-safe: the download threads share it
        // (and its token).
        return [&client](const Descriptor& d, const BlobSink& sink) { return client.get_blob(d, sink); };
    };
    BOCK_TRY(run_layer_pipeline(p, jobs, factory, po));
    BOCK_TRY(put_blob_data(p, ctext, "config"));
    BOCK_TRY(put_blob_data(p, m.body, "manifest"));
    auto rec = BOCK_TRY(commit_image(p, ref.str(), m.digest, so));
    say("Writing manifest to image destination");
    BOCK_TRY(add_to_index(p, {rec}, "pull"));
    guard.keep();
    return rec;
}

}  // namespace detail

Result<ImageRecord> Store::pull(const Reference& ref, const PullOptions& opts) {
    return detail::pull_image(detail::StorePaths{root_}, ref, opts, opts_).context(fmt::format("pull {}", ref.str()));
}

}  // namespace bock::image
