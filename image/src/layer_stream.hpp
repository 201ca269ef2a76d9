// The decompressed stream of a layer blob, for the tar reader: an outer
// libarchive handle (raw format, every compression filter) decompresses the
// blob read from an fd; the tar reader pulls from it through
// DecompressedStream::read, which hashes and counts every byte (the diff_id)
// and enforces the decompression-bomb caps as it goes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "archive_util.hpp"
#include "bock/common/error.hpp"
#include "bock/image/digest.hpp"
#include "bock/image/extract.hpp"

namespace bock::image::detail {

class DecompressedStream {
public:
    // Heap-allocated: the tar reader keeps a pointer to it.
    static Result<std::unique_ptr<DecompressedStream>> open(int fd, const ExtractLimits& limits);

    // Opens `tar` (a fresh reader with its formats set) on this stream.
    Result<void> attach(struct archive* tar);
    // Reads (and hashes) whatever the tar reader left, then returns the
    // digest of the whole decompressed stream.
    Result<Digest> finish();

    uint64_t uncompressed() const { return total_; }
    uint64_t compressed() const;
    // The error that made read() fail (a bomb cap, a corrupt stream), if any:
    // the tar reader only sees a short read.
    const std::optional<Error>& failure() const { return failure_; }

private:
    DecompressedStream() = default;
    static la_ssize_t read_cb(struct archive*, void* self, const void** buf);
    la_ssize_t read(const void** buf);

    ArchiveReader outer_;
    ExtractLimits limits_;
    Sha256 hash_;
    uint64_t total_ = 0;
    bool eof_ = false;
    std::optional<Error> failure_;
};

}  // namespace bock::image::detail
