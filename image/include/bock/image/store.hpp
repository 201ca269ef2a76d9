// The content-addressed image store (layout in docs/storage.md):
//   <root>/blobs/sha256/<hex>     manifests, configs, layer blobs
//   <root>/layers/<diffid-hex>/   one extracted directory per layer
//   <root>/images.json            reference -> manifest digest (the index)
//   <root>/leases/<holder>.json   content in use by a container (store_leases.cpp)
//   <root>/tmp/                   work in progress; cleared under the lock
//   <root>/lock                   flock: exclusive for writers
// Everything is written to tmp/ first and renamed into place; the index is
// replaced atomically last, so no reference ever points at incomplete
// content and a SIGKILL at any point leaves only tmp/ debris.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/image/digest.hpp"
#include "bock/image/oci.hpp"
#include "bock/image/reference.hpp"
#include "bock/image/registry.hpp"

namespace bock::image {

struct ImageRecord {
    // full reference, e.g. "localhost/busybox:latest"; empty for a dangling
    // (untagged) image, shown as <none>
    std::string name;
    Digest manifest;
    Digest config;     // the image id is config.hex
    std::vector<Digest> diff_ids;  // bottom to top
    int64_t created = 0;  // unix seconds, from the config (0 if absent)
    uint64_t size = 0;    // bytes of the extracted layers
};

// A lease: what keeps an image's content alive while something (a
// container) uses it, whatever happens to the image's names. Stored by the
// store itself as <root>/leases/<holder>.json, so the store never reads
// another component's files to decide what gc may delete.
struct Lease {
    std::string holder;    // a container id
    std::string image;     // the name the image had when the lease was taken
    std::string image_id;  // config hex (empty in leases migrated from old records without it)
    std::vector<Digest> layers;
};

struct RemoveResult {
    std::vector<std::string> untagged;  // names removed
    std::vector<std::string> deleted;   // image ids ("sha256:<hex>") whose content went
};

struct StoreOptions {
    // Rootless: whiteouts/opaque dirs use user.overlay.* xattrs (overlay
    // mounted with userxattr) instead of trusted.overlay.*.
    bool rootless = false;
    // Single-ID mapping: owners that cannot be chown'ed are recorded in the
    // user.containers.override_stat xattr instead.
    bool single_id = false;
};

class Store {
public:
    static Result<Store> open(const std::string& root, StoreOptions opts);

    const std::string& root() const { return root_; }
    const StoreOptions& options() const { return opts_; }

    Result<std::vector<ImageRecord>> list() const;
    // Exact lookup of a full reference.
    Result<std::optional<ImageRecord>> find(const Reference& ref) const;
    // Lookup by what the user typed: a short name tries local_candidates();
    // also accepts an image id (config hex, or a unique prefix of >= 4 chars).
    // The record's name is the one chosen (print it when it differs).
    Result<std::optional<ImageRecord>> lookup(std::string_view typed) const;
    Result<ImageConfig> config(const ImageRecord& rec) const;
    // Extracted layer directories, bottom to top.
    std::vector<std::string> layer_dirs(const ImageRecord& rec) const;

    // Imports every image in an OCI image layout directory; `name` overrides
    // the reference for an index with a single image.
    Result<std::vector<ImageRecord>> import_oci_layout(const std::string& dir,
                                                       std::optional<std::string> name = {});
    // Pulls an image from its registry (anonymous; see registry.hpp) and
    // stores it like load does. Nothing is written when the manifest cannot
    // be fetched; a failure later leaves only tmp/ debris.
    Result<ImageRecord> pull(const Reference& ref, const PullOptions& opts);
    // Pushes a stored image to `dest` on its registry (push.cpp): blobs as
    // stored; uncompressed layers gzipped once and cached. Returns the
    // manifest digest.
    Result<Digest> push(const ImageRecord& rec, const Reference& dest, const PushOptions& opts);
    // Loads an OCI archive or a `docker save` archive from a file ("-" for
    // stdin). An archive that is neither is refused with a clear error.
    Result<std::vector<ImageRecord>> load_archive(const std::string& path);
    // Stores a complete image given its parts (used by the default image and
    // by test fixtures): layer blobs are uncompressed tars on disk.
    Result<ImageRecord> add_image(const Reference& ref, const ImageConfig& config,
                                  const std::vector<std::string>& layer_tar_paths);
    // Writes the image as an OCI archive (oci-layout, index.json with the
    // ref.name annotation, blobs/) to a file, or to stdout for "-".
    Result<void> save_oci_archive(const ImageRecord& rec, const std::string& path) const;
    // Removes a reference (name or id); blobs and layers no longer used by
    // any reference are deleted. Returns the names untagged.
    Result<std::vector<std::string>> remove(std::string_view typed);

    // --- leases (store_leases.cpp) ---
    // Every lease; an unreadable lease or lease directory is an error naming
    // the path (gc then deletes nothing).
    Result<std::vector<Lease>> leases() const;
    // Under the store's shared lock (no writer, so no gc, can run): checks
    // that `rec` is still stored and writes the lease of `holder` on its
    // content (atomically). Taken before the layers are used.
    Result<void> take_lease(const std::string& holder, const ImageRecord& rec) const;
    // Removes the lease of `holder` (none is not an error). Taken last when
    // a container goes, so a crash before it only keeps content longer.
    Result<void> release_lease(const std::string& holder) const;

    // --- reference counting (store_refs.cpp) ---
    // Removes a name (that reference only) or an id (every name of the
    // image). When that leaves the image unnamed and a container uses it,
    // refuses naming the container, unless `force`: then the image is kept
    // as a dangling (<none>) image until the container is removed. Content
    // no longer referenced is deleted (gc) under the writer lock.
    Result<RemoveResult> remove_image(std::string_view typed, bool force);
    // Adds `target` as another name of the image `source` (name or id); a
    // name already on another image moves (that image becomes dangling if
    // it has no other name).
    Result<ImageRecord> tag(std::string_view source, const Reference& target);
    // Removes dangling images (all=false) or every image (all=true) that no
    // container uses, then gc. Returns the image ids deleted.
    Result<std::vector<std::string>> prune(bool all);
    // Deletes blobs and layer directories no image and no lease uses.
    Result<void> gc();

private:
    Store(std::string root, StoreOptions opts) : root_(std::move(root)), opts_(opts) {}
    std::string root_;
    StoreOptions opts_;
};

}  // namespace bock::image
