// `bock commit`'s store side: a new image whose layers are the container's
// image's plus its change set, written in the store's crash-safe order
// (docs/storage.md): writer lock (tmp/ emptied), the base checked under
// the lock, the layer blob (diff_id and digest in one pass), config and
// manifest blobs, the layer extracted into layers/, the index last.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>

#include "bock/common/fs.hpp"
#include "bock/image/commit.hpp"
#include "bock/image/default_image.hpp"
#include "commit_config.hpp"
#include "store_internal.hpp"
#include "tree_walk.hpp"
#include "upper_layer.hpp"

namespace bock::image {

namespace {

// Layer media types in the manifest's format.
std::string layer_type(const std::string& t, bool docker) {
    if (docker) {
        if (t == media::oci_layer_gzip) return media::docker_layer;
        if (t == media::oci_layer_tar) return "application/vnd.docker.image.rootfs.diff.tar";
        return t;
    }
    if (t == media::docker_layer) return media::oci_layer_gzip;
    if (t == "application/vnd.docker.image.rootfs.diff.tar") return media::oci_layer_tar;
    return t;
}

// The base image must still be stored (a concurrent rmi + gc could have
// taken it): its record, its manifest and config blobs, every layer.
Result<Manifest> check_base(const detail::StorePaths& p, const ImageRecord& base) {
    auto records = BOCK_TRY(detail::read_index(p));
    bool found = std::any_of(records.begin(), records.end(), [&](const ImageRecord& r) { return r.manifest == base.manifest; });
    auto gone = [&](const std::string& what) {
        return make_error("the container's image {} is no longer stored: {} is missing", base.config.hex.substr(0, 12), what)
            .with_hint("the container still runs from its leased layers; commit needs the image's blobs (pull or load it again)");
    };
    if (!found) return gone("its record in images.json");
    if (!fs::exists(p.blob(base.manifest))) return gone("manifest " + base.manifest.str());
    if (!fs::exists(p.blob(base.config))) return gone("config " + base.config.str());
    for (const auto& d : base.diff_ids)
        if (!fs::exists(p.layer(d))) return gone("layer " + d.str());
    auto text = BOCK_TRY(detail::read_blob(p, base.manifest));
    auto m = BOCK_TRY_CTX(parse_manifest(text), fmt::format("manifest {}", base.manifest.str()));
    for (const auto& l : m.layers)
        if (!fs::exists(p.blob(l.digest))) return gone("layer blob " + l.digest.str());
    return m;
}

}  // namespace

Result<CommitResult> commit_upper(Store& store, const ImageRecord& base, const std::string& upper,
                                  const std::string& name, const CommitOptions& opts) {
    detail::StorePaths p{store.root()};
    std::string ref_name;
    if (!name.empty()) ref_name = BOCK_TRY(Reference::parse(name)).str();
    auto session = BOCK_TRY(detail::WriteSession::begin(p));
    detail::NewContentGuard guard(p);
    Manifest base_manifest;
    std::string base_config;
    if (base.manifest.hex.empty()) {  // scratch
        base_config = nlohmann::json{{"architecture", go_arch()}, {"os", "linux"}, {"config", nlohmann::json::object()},
                                     {"rootfs", {{"type", "layers"}, {"diff_ids", nlohmann::json::array()}}}}
                          .dump();
    } else {
        base_manifest = BOCK_TRY(check_base(p, base));
        base_config = BOCK_TRY(detail::read_blob(p, base.config));
    }

    CommitResult out;
    std::optional<detail::UpperLayer> layer;
    std::optional<detail::CopyChanges> copy;
    if (!opts.copy_of.empty())
        copy = BOCK_TRY_CTX(detail::compare_copy(upper, opts.copy_of), "compare the container's copy with its image");
    bool empty = copy ? copy->keep.empty() && copy->deleted.empty() : detail::upper_is_empty(upper);
    if (opts.include_empty || !empty)
        layer = BOCK_TRY(detail::write_upper_layer(p, upper, opts, copy ? &*copy : nullptr));

    auto cfg = BOCK_TRY(detail::commit_config(base_config, layer ? std::optional(layer->diff_id) : std::nullopt, opts));
    auto cd = BOCK_TRY(detail::put_blob_data(p, cfg.dump(), "config"));
    Manifest m;
    m.media_type = opts.docker_format ? media::docker_manifest : media::oci_manifest;
    m.config = {opts.docker_format ? media::docker_config : media::oci_config, cd.digest, cd.size, {}, {}};
    for (auto l : base_manifest.layers) {
        l.media_type = layer_type(l.media_type, opts.docker_format);
        l.annotations.clear();
        m.layers.push_back(l);
    }
    if (layer) {
        if (opts.docker_format && opts.compression == Compression::zstd)
            return make_error("a Docker schema2 image cannot hold a zstd layer").with_hint("use --format oci or --compression gzip");
        m.layers.push_back(layer->blob);
        out.layer = layer->blob.digest;
    }
    auto md = BOCK_TRY(detail::put_blob_data(p, serialize(m), "manifest"));
    out.image = BOCK_TRY(detail::commit_image(p, ref_name, md.digest, store.options()));
    BOCK_TRY(detail::add_to_index(p, {out.image}, "commit"));
    guard.keep();
    return out;
}

// ---- bock diff ---------------------------------------------------------

namespace {

// Whether `path` is in the image: the topmost layer that has it decides
// (a whiteout there means deleted).
bool in_image(const std::vector<std::string>& lowers, const std::string& path) {
    for (auto it = lowers.rbegin(); it != lowers.rend(); ++it) {
        struct stat st;
        if (::lstat((*it + "/" + path).c_str(), &st) < 0) continue;
        return !(S_ISCHR(st.st_mode) && st.st_rdev == 0);
    }
    return false;
}

// The names in `dir` of every layer (whited-out ones dropped).
std::vector<std::string> image_children(const std::vector<std::string>& lowers, const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& l : lowers)
        for (const auto& n : detail::list_dir(l + "/" + dir))
            if (in_image(lowers, dir + "/" + n) && std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
    return out;
}

}  // namespace

Result<std::vector<PathChange>> upper_changes(const std::string& upper, const std::vector<std::string>& lowers,
                                              bool full_copy) {
    std::vector<PathChange> out;
    detail::WalkOptions wo;
    std::optional<detail::CopyChanges> copy;
    if (full_copy) copy = BOCK_TRY(detail::compare_copy(upper, lowers));
    wo.overlay_upper = !full_copy;
    if (copy) wo.only = &*copy;
    BOCK_TRY(detail::walk_tree(upper, wo, [&](const detail::TreeEntry& e, int, const char*) -> Result<void> {
        if (e.whiteout) {
            if (in_image(lowers, e.path)) out.push_back({'D', "/" + e.path});
            return ok();
        }
        out.push_back({in_image(lowers, e.path) ? 'C' : 'A', "/" + e.path});
        if (e.opaque) {
            // What the image had here and the upper does not hide any more.
            for (const auto& n : image_children(lowers, e.path)) {
                struct stat st;
                if (::lstat((upper + "/" + e.path + "/" + n).c_str(), &st) < 0) out.push_back({'D', "/" + e.path + "/" + n});
            }
        }
        return ok();
    }));
    std::sort(out.begin(), out.end(), [](const PathChange& a, const PathChange& b) { return a.path < b.path; });
    return out;
}

}  // namespace bock::image
