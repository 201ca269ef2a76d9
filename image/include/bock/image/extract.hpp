// Layer extraction with libarchive (tar, optionally gzip/zstd/xz
// compressed), in one pass over the blob: the decompressed stream is hashed
// (the layer's diff_id) and counted while its entries are written. Never
// writes outside `dest`: `..`, absolute paths leaving the layer, writes
// through symlinks and hardlinks to outside targets are refused. Whiteouts
// are turned into what kernel overlay reads: ".wh.NAME" -> a 0/0 character
// device NAME; ".wh..wh..opq" -> the opaque xattr on the directory
// (trusted.overlay.opaque, or user.overlay.opaque rootless).
#pragma once

#include <cstdint>
#include <string>

#include "bock/common/error.hpp"
#include "bock/image/digest.hpp"

namespace bock::image {

// Decompression-bomb caps, checked while decompressing. A layer whose
// decompressed stream exceeds `max_size` bytes, or whose ratio of
// decompressed to compressed bytes exceeds `max_ratio` once past
// `ratio_after` bytes, is refused. Defaults: 64 GiB, 1000:1 after 256 MiB;
// BOCK_LAYER_MAX_SIZE (bytes) and BOCK_LAYER_MAX_RATIO override them (0:
// no cap).
struct ExtractLimits {
    uint64_t max_size = 64ull << 30;
    uint64_t max_ratio = 1000;
    uint64_t ratio_after = 256ull << 20;

    static ExtractLimits from_env();
};

struct ExtractOptions {
    bool rootless = false;   // user.overlay.* xattrs; device nodes skipped with one warning
    bool single_id = false;  // record unmappable owners in user.containers.override_stat
    ExtractLimits limits = ExtractLimits::from_env();
};

struct ExtractStats {
    uint64_t entries = 0;
    uint64_t bytes = 0;          // file data written
    Digest diff_id;              // sha256 of the whole decompressed stream
    uint64_t uncompressed = 0;   // its length
    uint64_t compressed = 0;     // bytes read from `fd`
};

// Extracts the (possibly compressed) tar read from `fd` into the existing
// directory `dest`. The decompressed stream is read to its end, so
// `diff_id` covers any padding after the tar's end-of-archive marker.
Result<ExtractStats> extract_layer(int fd, const std::string& dest, const ExtractOptions& opts);

}  // namespace bock::image
