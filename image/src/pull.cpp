// Store::pull: resolves the reference on the registry (index -> the
// manifest for the platform), then, holding the store's writer lock, streams
// the config and layer blobs through BlobWriter (sha256 and size checked
// while downloading) and stores the image through the same path as load
// (fetch_image: extraction, diff_id checks), the index last.
#include <string>

#include "bock/common/fs.hpp"
#include "bock/image/registry.hpp"
#include "bock/image/store.hpp"
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

}  // namespace

Result<ImageRecord> pull_image(const StorePaths& p, const Reference& ref, const PullOptions& opts,
                               const StoreOptions& so) {
    auto say = [&](std::string_view line) {
        if (opts.progress) opts.progress(line);
    };
    const Reference& from = opts.source ? *opts.source : ref;  // a mirror (registries.conf)
    RegistryClient client(from.domain, from.path, opts);
    // The manifest first, without the lock: a missing tag or an unreachable
    // registry leaves the store untouched.
    auto m = BOCK_TRY(resolve_manifest(client, ref, opts));

    auto session = BOCK_TRY(WriteSession::begin(p));
    NewContentGuard guard(p);  // a refused image (digest, hostile layer) leaves the store as it was
    auto md = BOCK_TRY(put_blob_data(p, m.body, "manifest"));
    md.media_type = m.media_type;
    auto fetch = [&](const Descriptor& d) -> Result<void> {
        bool config = d.media_type == media::oci_config || d.media_type == media::docker_config;
        say(fmt::format("Copying {} {}", config ? "config" : "blob", d.digest.str()));
        auto w = BOCK_TRY(BlobWriter::create(p, d, fmt::format("blob {}", d.digest.str())));
        BOCK_TRY(client.get_blob(d, [&](const char* data, size_t len) { return w.write(data, len); }));
        BOCK_TRY(w.commit());
        return ok();
    };
    auto rec = BOCK_TRY(fetch_image(p, md, ref.str(), fetch, so));
    say("Writing manifest to image destination");
    BOCK_TRY(add_to_index(p, {rec}));
    guard.keep();
    return rec;
}

}  // namespace detail

Result<ImageRecord> Store::pull(const Reference& ref, const PullOptions& opts) {
    return detail::pull_image(detail::StorePaths{root_}, ref, opts, opts_).context(fmt::format("pull {}", ref.str()));
}

}  // namespace bock::image
