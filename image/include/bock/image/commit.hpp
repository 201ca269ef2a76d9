// A container's change set back into a layer (issue 12): the upper
// directory of an overlay read as OCI layer entries (upper_walk.cpp),
// written as a compressed layer blob with its diff_id computed in the same
// pass (upper_layer.cpp), and committed as a new image on top of the
// container's image (commit_image.cpp). Also a whole tree as a tar, for
// `bock export` (tree_tar.cpp).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/image/store.hpp"

namespace bock::image {

// One path of a change set, as `podman diff` shows it.
struct PathChange {
    char kind = 'A';   // A added, C changed, D deleted
    std::string path;  // absolute, e.g. "/etc/hosts"
};

// The changes recorded in an overlay upper directory, compared with the
// image's layer directories (bottom to top) to tell A from C; with
// `full_copy`, `upper` is a whole copy of those layers (the vfs backend)
// and the changes are what differs from them. Sorted by path.
Result<std::vector<PathChange>> upper_changes(const std::string& upper, const std::vector<std::string>& lowers,
                                              bool full_copy = false);

enum class Compression { gzip, zstd };
Result<Compression> parse_compression(const std::string& s);

struct CommitOptions {
    std::vector<std::string> changes;  // -c: CMD, ENTRYPOINT, ENV, LABEL, WORKDIR, USER, EXPOSE, VOLUME, STOPSIGNAL
    std::string message;               // -m: the history entry's comment
    std::string author;
    bool docker_format = false;        // Docker schema2 manifest and media types
    bool include_empty = false;        // an empty layer when nothing changed
    std::optional<int64_t> timestamp;  // --timestamp / SOURCE_DATE_EPOCH: reproducible layer and config
    Compression compression = Compression::gzip;
    bool single_id = false;            // honour user.containers.override_stat for owners
    std::string created_by;            // history "created_by" (e.g. the container's command)
    // Non-empty: the upper directory is a full copy of these layer
    // directories (bottom first; the vfs backend), compared with them.
    std::vector<std::string> copy_of;
    // `bock build`: the whole "config" object of the new image (JSON),
    // replacing the base's instead of applying `changes` to it.
    std::optional<std::string> config_json;
    // `bock build`: history entries of config-only instructions (their
    // created_by) recorded before this commit's own, as empty layers.
    std::vector<std::string> empty_history;
};

struct CommitResult {
    ImageRecord image;
    std::optional<Digest> layer;  // the new layer blob, when one was added
};

// Under the store's writer lock: checks that `base` (the container's
// image) is still stored, writes the change set of `upper` as a layer blob
// (kill points commit-blob-partial, commit-layer-written), the config and
// manifest, extracts the layer into layers/ and writes the index last
// (commit-before-index). `name` empty: a dangling image. A `base` with an
// empty manifest digest is `scratch`: no layers below, an empty config.
Result<CommitResult> commit_upper(Store& store, const ImageRecord& base, const std::string& upper,
                                  const std::string& name, const CommitOptions& opts);

// Writes the tree at `root` (a mounted container root) as an uncompressed
// tar to `fd`: sorted, hardlinks kept, owners as seen.
Result<void> write_tree_tar(const std::string& root, int fd);

}  // namespace bock::image
