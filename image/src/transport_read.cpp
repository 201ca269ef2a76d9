// Reading images from OCI layouts and `docker save` archives as
// SourceImages (documents parsed and verified, blobs opened inside the
// layout only), and storing a SourceImage.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <map>
#include <memory>

#include "archive_util.hpp"
#include "bock/common/fs.hpp"
#include "bock/common/sys.hpp"
#include "bock/image/registry.hpp"
#include "transport_internal.hpp"

namespace bock::image::detail {

using nlohmann::json;

namespace {

constexpr const char* containerd_name_annotation = "io.containerd.image.name";

std::string blob_rel(const Digest& d) { return "blobs/" + d.algorithm + "/" + d.hex; }

// A document blob of the layout, checked against its descriptor.
Result<std::string> read_doc(int root, const std::string& shown, const Descriptor& d, std::string_view what) {
    auto text = BOCK_TRY(read_in(root, blob_rel(d.digest), shown));
    if (sha256_of(text) != d.digest) return make_error("{} {} in `{}`: digest mismatch", what, d.digest.str(), shown);
    return text;
}

// The manifest for this machine out of an image index.
Result<Descriptor> pick_platform(int root, const std::string& shown, const Descriptor& index_desc) {
    auto text = BOCK_TRY(read_doc(root, shown, index_desc, "index"));
    try {
        const json j = json::parse(text);
        for (const auto& m : j.at("manifests")) {
            auto d = BOCK_TRY(parse_descriptor(m));
            if (d.platform && Platform::host().matches(*d.platform)) return d;
        }
    } catch (const json::exception& e) {
        return make_error("index {} in `{}`: {}", index_desc.digest.str(), shown, e.what());
    }
    return make_error("index {} in `{}`: no manifest for {}", index_desc.digest.str(), shown, Platform::host().str());
}

// A full reference out of an annotation value, or nothing for a bare tag.
std::optional<std::string> full_name(const std::string& v) {
    if (v.find_first_of("/:") == std::string::npos) return std::nullopt;
    auto r = Reference::parse(v);
    if (!r) return std::nullopt;
    return r->str();
}

Result<SourceImage> oci_source(int root, const std::string& shown, Descriptor d) {
    SourceImage s;
    if (auto it = d.annotations.find(kRefNameAnnotation); it != d.annotations.end()) {
        s.tag = it->second;
        if (auto n = full_name(it->second)) s.names.push_back(*n);
    }
    if (s.names.empty())
        if (auto it = d.annotations.find(containerd_name_annotation); it != d.annotations.end())
            if (auto n = full_name(it->second)) s.names.push_back(*n);
    if (d.media_type == media::oci_index || d.media_type == media::docker_list)
        d = BOCK_TRY(pick_platform(root, shown, d));
    s.manifest_json = BOCK_TRY(read_doc(root, shown, d, "manifest"));
    s.manifest = BOCK_TRY_CTX(parse_manifest(s.manifest_json), fmt::format("manifest {} in `{}`", d.digest.str(), shown));
    s.manifest_desc = d;
    s.manifest_desc.annotations.clear();
    s.manifest_desc.platform.reset();
    if (s.manifest_desc.media_type.empty())
        s.manifest_desc.media_type = s.manifest.media_type.empty() ? media::oci_manifest : s.manifest.media_type;
    s.config_json = BOCK_TRY(read_doc(root, shown, s.manifest.config, "config"));
    s.config = BOCK_TRY_CTX(parse_image_config(s.config_json), fmt::format("config in `{}`", shown));
    if (s.config.diff_ids.size() != s.manifest.layers.size())
        return make_error("image {} in `{}`: manifest has {} layers but config lists {} diff_ids", d.digest.str(), shown,
                          s.manifest.layers.size(), s.config.diff_ids.size());
    s.open_blob = [root, shown](const Digest& b) { return open_in(root, blob_rel(b), shown); };
    return s;
}

std::string layer_media_type(int fd) {
    unsigned char m[4] = {};
    if (::pread(fd, m, sizeof m, 0) != sizeof m) return media::oci_layer_tar;
    if (m[0] == 0x1f && m[1] == 0x8b) return media::oci_layer_gzip;
    if (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) return media::oci_layer_zstd;
    return media::oci_layer_tar;
}

Result<Descriptor> hash_in(int root, const std::string& rel, const std::string& shown) {
    Fd fd = BOCK_TRY(open_in(root, rel, shown));
    Sha256 h;
    int64_t size = 0;
    BOCK_TRY(for_each_chunk(fd.get(), fmt::format("`{}` in `{}`", rel, shown), [&](const char* data, size_t len) {
        h.update(data, len);
        size += static_cast<int64_t>(len);
        return ok();
    }));
    Descriptor d;
    d.media_type = layer_media_type(fd.get());
    d.digest = h.finish();
    d.size = size;
    return d;
}

bool same_ref(const std::string& a, const std::string& b) {
    auto ra = Reference::parse(a), rb = Reference::parse(b);
    return ra && rb && ra->str() == rb->str();
}

}  // namespace

Result<std::vector<SourceImage>> oci_sources(int root, const std::string& shown, const std::string& want) {
    if (!exists_in(root, "oci-layout")) return make_error("`{}` is not an OCI layout: no oci-layout file", shown);
    auto text = BOCK_TRY(read_in(root, "index.json", shown));
    std::vector<Descriptor> all;
    try {
        const json j = json::parse(text);
        for (const auto& m : j.at("manifests")) all.push_back(BOCK_TRY_CTX(parse_descriptor(m), "index.json"));
    } catch (const json::exception& e) {
        return make_error("index.json in `{}`: {}", shown, e.what());
    }
    std::vector<SourceImage> out;
    std::vector<std::string> tags;
    for (const auto& d : all) {
        auto it = d.annotations.find(kRefNameAnnotation);
        std::string tag = it == d.annotations.end() ? "" : it->second;
        if (!tag.empty()) tags.push_back(tag);
        if (!want.empty() && tag != want && !(full_name(tag) && same_ref(tag, want))) continue;
        out.push_back(BOCK_TRY(oci_source(root, shown, d)));
    }
    if (all.empty()) return make_error("`{}` holds no images (index.json lists no manifests)", shown);
    if (out.empty()) {
        std::string list;
        for (const auto& t : tags) list += (list.empty() ? "" : ", ") + t;
        return make_error("no image tagged `{}` in `{}` (its tags: {})", want, shown, list.empty() ? "none" : list);
    }
    return out;
}

Result<std::vector<SourceImage>> docker_sources(int root, const std::string& shown, const std::string& want) {
    auto text = BOCK_TRY(read_in(root, "manifest.json", shown));
    struct Entry {
        std::string config;
        std::vector<std::string> tags, layers;
    };
    std::vector<Entry> entries;
    try {
        const json j = json::parse(text);
        for (const auto& e : j) {
            Entry x;
            x.config = e.at("Config").get<std::string>();
            if (auto t = e.find("RepoTags"); t != e.end() && !t->is_null()) x.tags = t->get<std::vector<std::string>>();
            x.layers = e.at("Layers").get<std::vector<std::string>>();
            entries.push_back(std::move(x));
        }
    } catch (const json::exception& e) {
        return make_error("manifest.json in `{}`: {}", shown, e.what());
    }
    if (entries.empty()) return make_error("`{}` holds no images (manifest.json is empty)", shown);
    std::vector<size_t> picked;
    if (want.starts_with("@")) {
        size_t n = 0;
        auto r = std::from_chars(want.data() + 1, want.data() + want.size(), n);
        if (r.ec != std::errc() || r.ptr != want.data() + want.size() || n >= entries.size())
            return make_error("`{}`: no image {} (the archive holds {})", shown, want, entries.size());
        picked.push_back(n);
    } else {
        for (size_t i = 0; i < entries.size(); i++) {
            bool match = want.empty();
            for (const auto& t : entries[i].tags) match |= same_ref(t, want);
            if (match) picked.push_back(i);
        }
        if (picked.empty()) return make_error("no image named `{}` in `{}`", want, shown);
    }
    std::vector<SourceImage> out;
    for (size_t i : picked) {
        const auto& e = entries[i];
        SourceImage s;
        for (const auto& t : e.tags) s.names.push_back(BOCK_TRY_CTX(Reference::parse(t), shown).str());
        s.config_json = BOCK_TRY(read_in(root, e.config, shown));
        s.config = BOCK_TRY_CTX(parse_image_config(s.config_json), fmt::format("`{}` in `{}`", e.config, shown));
        if (s.config.diff_ids.size() != e.layers.size())
            return make_error("image `{}` in `{}`: {} layers but the config lists {} diff_ids", e.config, shown,
                              e.layers.size(), s.config.diff_ids.size());
        Manifest& m = s.manifest;
        m.media_type = media::oci_manifest;
        m.config = {media::oci_config, sha256_of(s.config_json), static_cast<int64_t>(s.config_json.size()), {}, {}};
        auto paths = std::make_shared<std::map<std::string, std::string>>();
        (*paths)[m.config.digest.hex] = e.config;
        for (const auto& l : e.layers) {
            auto d = BOCK_TRY(hash_in(root, l, shown));
            (*paths)[d.digest.hex] = l;
            m.layers.push_back(d);
        }
        s.manifest_json = serialize(m);
        s.manifest_desc = {media::oci_manifest, sha256_of(s.manifest_json), static_cast<int64_t>(s.manifest_json.size()), {}, {}};
        s.open_blob = [root, shown, paths](const Digest& d) -> Result<Fd> {
            auto it = paths->find(d.hex);
            if (it == paths->end()) return make_error("`{}`: no blob {}", shown, d.str());
            return open_in(root, it->second, shown);
        };
        out.push_back(std::move(s));
    }
    return out;
}

Result<void> decompress_fd(int fd, const std::string& shown,
                           const std::function<Result<void>(const char*, size_t)>& sink) {
    ArchiveReader a(archive_read_new());
    archive_read_support_filter_all(a.get());
    archive_read_support_format_raw(a.get());
    archive_read_support_format_empty(a.get());
    if (archive_read_open_fd(a.get(), fd, 1 << 16) != ARCHIVE_OK)
        return make_error("read `{}`: {}", shown, archive_err(a.get()));
    struct archive_entry* e;
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) return ok();
    if (r < ARCHIVE_WARN) return make_error("read `{}`: {}", shown, archive_err(a.get()));
    char buf[1 << 16];
    for (;;) {
        la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
        if (n < 0) return make_error("decompress `{}`: {}", shown, archive_err(a.get()));
        if (n == 0) break;
        BOCK_TRY(sink(buf, static_cast<size_t>(n)));
    }
    return ok();
}

Result<ImageRecord> store_source(const StorePaths& p, const SourceImage& s, const std::string& name,
                                 const StoreOptions& opts) {
    if (!fs::exists(p.blob(s.manifest.config.digest))) {
        auto d = BOCK_TRY(put_blob_data(p, s.config_json, "config"));
        if (d.digest != s.manifest.config.digest) return make_error("config: digest mismatch (got {})", d.digest.str());
    }
    for (const auto& l : s.manifest.layers) {
        if (fs::exists(p.blob(l.digest))) continue;
        Fd fd = BOCK_TRY(s.open_blob(l.digest));
        BOCK_TRY(put_blob_fd(p, fd.get(), l, fmt::format("layer {}", l.digest.str())));
    }
    auto md = BOCK_TRY(put_blob_data(p, s.manifest_json, "manifest"));
    if (md.digest != s.manifest_desc.digest) return make_error("manifest: digest mismatch (got {})", md.digest.str());
    return commit_image(p, name, md.digest, opts);
}

}  // namespace bock::image::detail
