// Streaming gzip decompression with ISA-L's igzip (3-4x faster than zlib's
// inflate, which libarchive uses): the pull pipeline inflates gzip layer
// blobs in the download thread and feeds the tar stream to extraction, so
// decompression and extraction run on two cores. Concatenated members are
// read as one stream (as gzip(1) does); the trailer's CRC is checked. The
// decompression-bomb caps (ExtractLimits) are enforced here, since
// extraction then sees an uncompressed stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "bock/common/error.hpp"
#include "bock/image/extract.hpp"

namespace bock::image::detail {

class GzipInflater {
public:
    using Sink = std::function<Result<void>(const char* data, size_t len)>;
    GzipInflater(ExtractLimits limits, Sink sink);
    ~GzipInflater();
    GzipInflater(const GzipInflater&) = delete;
    GzipInflater& operator=(const GzipInflater&) = delete;

    // Compressed bytes in; decompressed bytes go to the sink.
    Result<void> feed(const char* data, size_t len);
    // The end of the compressed stream: an unfinished member is an error.
    Result<void> finish();

    static bool is_gzip(const char* data, size_t len) {
        return len >= 2 && static_cast<unsigned char>(data[0]) == 0x1f && static_cast<unsigned char>(data[1]) == 0x8b;
    }

private:
    struct State;
    Result<void> check_caps();
    std::unique_ptr<State> st_;
    ExtractLimits limits_;
    Sink sink_;
    uint64_t in_ = 0, out_ = 0;
    bool member_done_ = false;
    bool trailing_ = false;  // bytes after the last member (ignored)  // the last member ended exactly at the input's end
};

}  // namespace bock::image::detail
