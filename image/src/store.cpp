// The image store: opening, queries, add_image and save (remove, tag,
// prune and gc are in store_refs.cpp).
#include "bock/image/store.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/sys.hpp"
#include "bock/image/archive_writer.hpp"
#include "bock/image/transport.hpp"
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
    if (!fs::exists(p.leases())) BOCK_TRY_CTX(detail::migrate_leases(p), "open image store");
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
    Location dst;
    dst.kind = Location::Kind::oci_archive;
    dst.path = path;
    return write_from_store(*this, {rec}, dst);
}

}  // namespace bock::image
