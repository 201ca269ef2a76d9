// Store::push: sends a stored image to a registry. Blobs go as stored, so
// a pulled image keeps its manifest bytes and digest. Layers stored as
// uncompressed tars (the default image, docker-archive loads) are gzipped
// once into blobs/ and remembered in compressed.json (diff_id -> blob), and
// a manifest naming the gzip blobs is written and pushed instead.
// Per blob: HEAD (skip if present), a cross-repository mount when the image
// came from another repository of the same registry, else an upload. The
// manifest goes last.
#include <fcntl.h>

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "bock/common/fd.hpp"
#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/sys.hpp"
#include "bock/image/store.hpp"
#include "gzip_deflate.hpp"
#include "registry_client.hpp"
#include "store_internal.hpp"

namespace bock::image {

namespace detail {

namespace {

using nlohmann::json;

constexpr const char* docker_layer_tar = "application/vnd.docker.image.rootfs.diff.tar";

bool uncompressed(const std::string& media_type) {
    return media_type == media::oci_layer_tar || media_type == docker_layer_tar;
}

std::string cache_path(const StorePaths& p) { return p.root + "/compressed.json"; }

Result<json> read_cache(const StorePaths& p) {
    if (!fs::exists(cache_path(p))) return json::object();
    auto text = BOCK_TRY(fs::read_file(cache_path(p)));
    try {
        auto j = json::parse(text);
        if (j.is_object()) return j;
    } catch (const json::exception&) {
    }
    log::warn("{}: unreadable, recompressing layers", cache_path(p));
    return json::object();
}

// gzip (igzip, gzip_deflate.hpp; no timestamp: the same tar gives the same blob).
Result<Descriptor> gzip_blob(const StorePaths& p, const Digest& tar) {
    std::string src = p.blob(tar);
    int fd = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Error::from_errno(fmt::format("open layer blob `{}`", src));
    Fd in(fd);
    auto w = BOCK_TRY(BlobWriter::create(p, std::nullopt, fmt::format("gzip of layer {}", tar.str())));
    detail::GzipDeflater gz([&](const void* b, size_t n) { return w.write(b, n); });
    std::vector<char> buf(1 << 20);
    for (;;) {
        int n = sys::raw::read_all(in.get(), buf.data(), buf.size());
        if (n < 0) return Error(-n, fmt::format("read `{}`", src));
        if (n == 0) break;
        BOCK_TRY_CTX(gz.write(buf.data(), static_cast<size_t>(n)), fmt::format("gzip layer {}", tar.str()));
    }
    BOCK_TRY_CTX(gz.finish(), fmt::format("gzip layer {}", tar.str()));
    return w.commit();
}

// The manifest to push: as stored, or with gzip layers in place of
// uncompressed ones (compressed once, cached). Returns media type and bytes.
Result<std::pair<std::string, std::string>> manifest_to_push(const StorePaths& p, const ImageRecord& rec,
                                                             const std::function<void(std::string_view)>& say) {
    auto text = BOCK_TRY(read_blob(p, rec.manifest));
    auto m = BOCK_TRY(parse_manifest(text));
    std::string mt = m.media_type.empty() ? media::oci_manifest : m.media_type;
    bool any = false;
    for (const auto& l : m.layers) any = any || uncompressed(l.media_type);
    if (!any) return std::pair{mt, text};

    auto session = BOCK_TRY(WriteSession::begin(p));
    auto cache = BOCK_TRY(read_cache(p));
    json j = json::parse(text);
    bool cache_changed = false;
    for (auto& l : j.at("layers")) {
        std::string lt = l.value("mediaType", "");
        if (!uncompressed(lt)) continue;
        auto tar = BOCK_TRY(Digest::parse(l.at("digest").get<std::string>()));
        std::optional<Descriptor> gz;
        if (auto c = cache.find(tar.str()); c != cache.end() && c->is_object()) {
            auto d = Digest::parse(c->value("digest", ""));
            if (d && fs::exists(p.blob(*d))) gz = Descriptor{"", *d, c->value("size", int64_t{0}), {}, {}};
        }
        if (!gz) {
            say(fmt::format("Compressing layer {}", tar.str()));
            gz = BOCK_TRY(gzip_blob(p, tar));
            cache[tar.str()] = {{"digest", gz->digest.str()}, {"size", gz->size}};
            cache_changed = true;
        }
        l["mediaType"] = lt == docker_layer_tar ? media::docker_layer : media::oci_layer_gzip;
        l["digest"] = gz->digest.str();
        l["size"] = gz->size;
    }
    if (cache_changed) BOCK_TRY(fs::write_file_atomic(cache_path(p), cache.dump(1) + "\n", 0600));
    std::string out = j.dump();
    BOCK_TRY(put_blob_data(p, out, "pushed manifest"));
    return std::pair{mt, out};
}

size_t chunk_size(const PushOptions& opts) {
    if (opts.chunk_size) return opts.chunk_size;
    const char* e = std::getenv("BOCK_PUSH_CHUNK_SIZE");
    return e ? static_cast<size_t>(std::strtoull(e, nullptr, 10)) : 0;
}

}  // namespace

Result<Digest> push_image(const StorePaths& p, const ImageRecord& rec, const Reference& dest,
                          const PushOptions& opts) {
    auto say = [&](std::string_view line) {
        if (opts.progress) opts.progress(line);
    };
    auto [media_type, manifest] = BOCK_TRY(manifest_to_push(p, rec, say));
    auto m = BOCK_TRY(parse_manifest(manifest));
    RegistryClient client(dest.domain, dest.path,
                          ClientOptions{opts.tls_verify, opts.cert_dir, opts.authfile, true, std::nullopt});
    // Where the image came from: a mount source on the same registry.
    std::string mount_from;
    if (auto src = Reference::parse(rec.name); src && src->domain == dest.domain && src->path != dest.path)
        mount_from = src->path;

    std::vector<std::pair<Descriptor, bool>> blobs;
    blobs.emplace_back(m.config, true);
    for (const auto& l : m.layers) blobs.emplace_back(l, false);
    for (const auto& [d, config] : blobs) {
        std::string path = p.blob(d.digest);
        if (!fs::exists(path))
            return make_error("blob {} is not in the store (removed?)", d.digest.str())
                .with_hint("pull or load the image again");
        const char* kind = config ? "config" : "blob";
        if (BOCK_TRY(client.blob_exists(d.digest))) {
            say(fmt::format("Copying {} {} skipped: already exists", kind, d.digest.str()));
            continue;
        }
        if (!mount_from.empty() && BOCK_TRY(client.mount_blob(d.digest, mount_from))) {
            say(fmt::format("Copying {} {} mounted from {}", kind, d.digest.str(), mount_from));
            continue;
        }
        say(fmt::format("Copying {} {}", kind, d.digest.str()));
        BOCK_TRY(client.upload_blob(d.digest, path, d.size, chunk_size(opts)));
    }
    say("Writing manifest to image destination");
    return client.put_manifest(dest.digest.empty() ? dest.tag : dest.digest, media_type, manifest);
}

}  // namespace detail

Result<Digest> Store::push(const ImageRecord& rec, const Reference& dest, const PushOptions& opts) {
    return detail::push_image(detail::StorePaths{root_}, rec, dest, opts)
        .context(fmt::format("push {} to {}", rec.name, dest.str()));
}

}  // namespace bock::image
