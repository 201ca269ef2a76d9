#include "gzip_inflate.hpp"

#include <isa-l/igzip_lib.h>

#include <vector>

namespace bock::image::detail {

struct GzipInflater::State {
    inflate_state s;
    std::vector<uint8_t> out = std::vector<uint8_t>(256 << 10);
};

GzipInflater::GzipInflater(ExtractLimits limits, Sink sink)
    : st_(new State), limits_(limits), sink_(std::move(sink)) {
    isal_inflate_init(&st_->s);
    st_->s.crc_flag = ISAL_GZIP;
}

GzipInflater::~GzipInflater() = default;

Result<void> GzipInflater::check_caps() {
    if (limits_.max_size && out_ > limits_.max_size)
        return make_error(
            "layer decompresses to more than {} bytes: refused as a decompression bomb (raise "
            "BOCK_LAYER_MAX_SIZE, or 0 for no cap, if the image is trusted)",
            limits_.max_size);
    if (limits_.max_ratio && out_ > limits_.ratio_after && (in_ == 0 || out_ / in_ > limits_.max_ratio))
        return make_error(
            "layer decompresses {}:1 ({} bytes from {}): refused as a decompression bomb (cap {}:1; raise "
            "BOCK_LAYER_MAX_RATIO, or 0 for no cap, if the image is trusted)",
            in_ ? out_ / in_ : 0, out_, in_, limits_.max_ratio);
    return ok();
}

Result<void> GzipInflater::feed(const char* data, size_t len) {
    inflate_state& s = st_->s;
    s.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(data));
    s.avail_in = static_cast<uint32_t>(len);
    in_ += len;
    while (s.avail_in > 0 || member_done_ == false) {
        if (trailing_) return ok();
        if (s.block_state == ISAL_BLOCK_FINISH) {
            if (s.avail_in == 0) break;
            if (*s.next_in != 0x1f) {
                trailing_ = true;  // padding after the last member: ignored, as gzip(1) does
                return ok();
            }
            // Another member follows (concatenated gzip).
            isal_inflate_reset(&s);
            s.crc_flag = ISAL_GZIP;
            member_done_ = false;
        }
        s.next_out = st_->out.data();
        s.avail_out = static_cast<uint32_t>(st_->out.size());
        int r = isal_inflate(&s);
        if (r == ISAL_INCORRECT_CHECKSUM) return make_error("decompress layer: gzip checksum mismatch");
        if (r < 0) return make_error("decompress layer: invalid gzip data (igzip error {})", r);
        size_t produced = st_->out.size() - s.avail_out;
        if (produced > 0) {
            out_ += produced;
            BOCK_TRY(check_caps());
            BOCK_TRY(sink_(reinterpret_cast<const char*>(st_->out.data()), produced));
        }
        if (s.block_state == ISAL_BLOCK_FINISH) {
            member_done_ = true;
            continue;
        }
        if (s.avail_in == 0 && produced < st_->out.size()) break;  // needs more input
    }
    return ok();
}

Result<void> GzipInflater::finish() {
    if (!member_done_ || st_->s.block_state != ISAL_BLOCK_FINISH)
        return make_error("decompress layer: truncated gzip stream");
    return ok();
}

}  // namespace bock::image::detail
