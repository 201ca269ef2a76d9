// Writes an uncompressed tar layer with libarchive: used to build the
// default busybox image and test fixtures (multi-uid files, whiteouts).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "bock/common/error.hpp"
#include "bock/image/digest.hpp"

namespace bock::image {

class LayerWriter {
public:
    static Result<LayerWriter> create(const std::string& tar_path);
    ~LayerWriter();
    LayerWriter(LayerWriter&&) noexcept;
    LayerWriter& operator=(LayerWriter&&) noexcept;

    Result<void> add_dir(const std::string& path, mode_t mode, uid_t uid = 0, gid_t gid = 0);
    Result<void> add_file(const std::string& path, std::string_view content, mode_t mode,
                          uid_t uid = 0, gid_t gid = 0);
    // Contents read from a host file.
    Result<void> add_host_file(const std::string& path, const std::string& host_path, mode_t mode,
                               uid_t uid = 0, gid_t gid = 0);
    Result<void> add_symlink(const std::string& path, const std::string& target);
    Result<void> add_hardlink(const std::string& path, const std::string& target);
    Result<void> add_whiteout(const std::string& path);   // ".wh.<name>"
    Result<void> add_opaque(const std::string& dir);      // "<dir>/.wh..wh..opq"
    // Closes the archive; returns the sha256 of the tar (the diff_id).
    Result<Digest> finish();

private:
    struct Impl;
    explicit LayerWriter(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace bock::image
