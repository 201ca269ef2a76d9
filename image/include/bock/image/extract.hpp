// Layer extraction with libarchive (tar, optionally gzip/zstd/xz
// compressed). Never writes outside `dest`: `..`, absolute paths leaving the
// layer, writes through symlinks and hardlinks to outside targets are
// refused. Whiteouts are turned into what kernel overlay reads: ".wh.NAME"
// -> a 0/0 character device NAME; ".wh..wh..opq" -> the opaque xattr on the
// directory (trusted.overlay.opaque, or user.overlay.opaque rootless).
#pragma once

#include <cstdint>
#include <string>

#include "bock/common/error.hpp"

namespace bock::image {

struct ExtractOptions {
    bool rootless = false;   // user.overlay.* xattrs; device nodes skipped with one warning
    bool single_id = false;  // record unmappable owners in user.containers.override_stat
};

struct ExtractStats {
    uint64_t entries = 0;
    uint64_t bytes = 0;
};

// Extracts the archive read from `fd` into the existing directory `dest`.
Result<ExtractStats> extract_layer(int fd, const std::string& dest, const ExtractOptions& opts);

}  // namespace bock::image
