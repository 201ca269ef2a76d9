// The image store: opening, queries, add_image, save, remove and gc.
#include "bock/image/store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <set>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/sys.hpp"
#include "bock/image/archive_writer.hpp"
#include "store_internal.hpp"

namespace bock::image {

using detail::StorePaths;
using detail::WriteSession;

Result<Store> Store::open(const std::string& root, StoreOptions opts) {
    if (root.empty()) return make_error("open image store: empty path");
    BOCK_TRY(fs::mkdir_p(root, 0700).context("open image store"));
    StorePaths p{root};
    for (const auto& d : {p.blobs(), p.layers(), p.tmp()})
        BOCK_TRY(fs::mkdir_p(d, 0700).context("open image store"));
    return Store(root, opts);
}

Result<std::vector<ImageRecord>> Store::list() const { return detail::read_index(StorePaths{root_}); }

Result<std::optional<ImageRecord>> Store::find(const Reference& ref) const {
    auto records = BOCK_TRY(list());
    std::string want = ref.str();
    for (auto& r : records)
        if (r.name == want) return std::optional<ImageRecord>(std::move(r));
    return std::optional<ImageRecord>();
}

namespace {

bool is_hex(std::string_view s) {
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return !s.empty();
}

}  // namespace

Result<std::optional<ImageRecord>> Store::lookup(std::string_view typed) const {
    auto records = BOCK_TRY(list());
    std::string_view id = typed;
    bool explicit_id = id.starts_with("sha256:");
    if (explicit_id) id.remove_prefix(7);
    if (!explicit_id) {
        if (auto ref = Reference::parse(typed)) {
            for (const auto& cand : local_candidates(*ref)) {
                std::string want = cand.str();
                for (auto& r : records)
                    if (r.name == want) return std::optional<ImageRecord>(r);
            }
        } else if (!is_hex(typed)) {
            return std::move(ref).error();
        }
    }
    if (id.size() >= 4 && is_hex(id)) {
        const ImageRecord* found = nullptr;
        for (const auto& r : records) {
            if (!r.config.hex.starts_with(id)) continue;
            if (found && found->config != r.config)
                return make_error("image id prefix `{}` is ambiguous", id);
            if (!found) found = &r;
        }
        if (found) return std::optional<ImageRecord>(*found);
    }
    return std::optional<ImageRecord>();
}

Result<ImageConfig> Store::config(const ImageRecord& rec) const {
    auto text = BOCK_TRY(detail::read_blob(StorePaths{root_}, rec.config));
    return parse_image_config(text).context(fmt::format("image `{}`", rec.name));
}

std::vector<std::string> Store::layer_dirs(const ImageRecord& rec) const {
    std::vector<std::string> out;
    StorePaths p{root_};
    for (const auto& d : rec.diff_ids) out.push_back(p.layer(d));
    return out;
}

Result<std::vector<ImageRecord>> Store::import_oci_layout(const std::string& dir, std::optional<std::string> name) {
    StorePaths p{root_};
    auto session = BOCK_TRY(WriteSession::begin(p));
    detail::NewContentGuard guard(p);
    auto records = BOCK_TRY(detail::import_oci_layout_locked(p, dir, std::move(name), opts_)
                                .context(fmt::format("import `{}`", dir)));
    BOCK_TRY(detail::add_to_index(p, records));
    guard.keep();
    return records;
}

Result<ImageRecord> Store::add_image(const Reference& ref, const ImageConfig& config,
                                     const std::vector<std::string>& layer_tar_paths) {
    StorePaths p{root_};
    const std::string what = fmt::format("add image `{}`", ref.str());
    auto session = BOCK_TRY(WriteSession::begin(p));
    auto parts = BOCK_TRY_CTX(make_image_parts(config, layer_tar_paths), what);
    for (size_t i = 0; i < parts.layers.size(); i++) {
        Fd fd = BOCK_TRY_CTX(sys::open(parts.layers[i].path, O_RDONLY), what);
        BOCK_TRY_CTX(detail::put_blob_fd(p, fd.get(), parts.manifest.layers[i], parts.layers[i].path), what);
    }
    BOCK_TRY_CTX(detail::put_blob_data(p, parts.config_json, "config"), what);
    BOCK_TRY_CTX(detail::put_blob_data(p, parts.manifest_json, "manifest"), what);
    auto rec = BOCK_TRY_CTX(detail::commit_image(p, ref.str(), parts.manifest_digest, opts_), what);
    BOCK_TRY_CTX(detail::add_to_index(p, {rec}), what);
    return rec;
}

Result<void> Store::save_oci_archive(const ImageRecord& rec, const std::string& path) const {
    StorePaths p{root_};
    const std::string what = fmt::format("save `{}`", rec.name);
    auto mtext = BOCK_TRY_CTX(detail::read_blob(p, rec.manifest), what);
    auto m = BOCK_TRY_CTX(parse_manifest(mtext), what);
    std::vector<ArchiveBlob> blobs;
    blobs.push_back({rec.manifest, {}, mtext});
    blobs.push_back({m.config.digest, p.blob(m.config.digest), {}});
    for (const auto& l : m.layers) blobs.push_back({l.digest, p.blob(l.digest), {}});
    Descriptor md;
    md.media_type = m.media_type.empty() ? media::oci_manifest : m.media_type;
    md.digest = rec.manifest;
    md.size = static_cast<int64_t>(mtext.size());
    return write_oci_archive(path, {{rec.name, md}}, blobs).context(what);
}

namespace {

std::vector<std::string> list_dir(const std::string& dir) {
    std::vector<std::string> out;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return out;
    while (dirent* e = ::readdir(d)) {
        std::string_view n = e->d_name;
        if (n != "." && n != "..") out.emplace_back(n);
    }
    ::closedir(d);
    return out;
}

// Deletes blobs and layer directories that no remaining image uses
// (including debris of loads killed after a rename but before the index).
Result<void> gc(const StorePaths& p, const std::vector<ImageRecord>& records) {
    std::set<std::string> blobs, layers;
    for (const auto& r : records) {
        blobs.insert(r.manifest.hex);
        blobs.insert(r.config.hex);
        for (const auto& d : r.diff_ids) layers.insert(d.hex);
        auto mtext = BOCK_TRY_CTX(detail::read_blob(p, r.manifest), "gc: refusing to delete anything");
        auto m = BOCK_TRY_CTX(parse_manifest(mtext), "gc: refusing to delete anything");
        for (const auto& l : m.layers) blobs.insert(l.digest.hex);
    }
    for (const auto& n : list_dir(p.blobs()))
        if (!blobs.contains(n)) BOCK_TRY(fs::remove_all(p.blobs() + "/" + n).context("gc"));
    for (const auto& n : list_dir(p.layers()))
        if (!layers.contains(n)) BOCK_TRY(fs::remove_all(p.layers() + "/" + n).context("gc"));
    return ok();
}

}  // namespace

Result<std::vector<std::string>> Store::remove(std::string_view typed) {
    StorePaths p{root_};
    auto session = BOCK_TRY(WriteSession::begin(p));
    auto rec = BOCK_TRY(lookup(typed));
    if (!rec) return Error(ENOENT, fmt::format("image `{}` not found", typed)).with_exit(1);
    auto records = BOCK_TRY(detail::read_index(p));
    // A name removes that reference; an id removes every name of the image.
    bool by_name = false;
    if (auto ref = Reference::parse(typed))
        for (const auto& c : local_candidates(*ref)) by_name |= c.str() == rec->name;
    std::vector<std::string> removed;
    std::erase_if(records, [&](const ImageRecord& r) {
        bool match = by_name ? r.name == rec->name : r.config == rec->config;
        if (match) removed.push_back(r.name);
        return match;
    });
    BOCK_TRY(detail::write_index(p, records).context(fmt::format("remove `{}`", typed)));
    if (auto r = gc(p, records); !r) log::warn("{}", r.error().to_string());
    return removed;
}

}  // namespace bock::image
