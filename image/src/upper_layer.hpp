// Private: the layer blob of a container's change set (upper_layer.cpp).
#pragma once

#include <string>

#include "bock/common/error.hpp"
#include "bock/image/commit.hpp"
#include "store_internal.hpp"
#include "tree_walk.hpp"

namespace bock::image::detail {

struct UpperLayer {
    Descriptor blob;  // in blobs/, with its media type
    Digest diff_id;   // sha256 of the uncompressed tar
    size_t entries = 0;
};

// Writes the change set of `upper` into blobs/ (through tmp/, kill points
// commit-blob-partial, commit-blob-before-rename, commit-layer-written).
// The caller holds the WriteSession.
// With `only`, just those paths and whiteouts (a full copy's changes).
Result<UpperLayer> write_upper_layer(const StorePaths& p, const std::string& upper, const CommitOptions& opts,
                                     const CopyChanges* only = nullptr);
// True when the upper directory records no change at all.
bool upper_is_empty(const std::string& upper);

}  // namespace bock::image::detail
