#include "gzip_deflate.hpp"

#include <isa-l/igzip_lib.h>

#include <vector>

namespace bock::image::detail {

struct GzipDeflater::State {
    isal_zstream s{};
    std::vector<uint8_t> level_buf = std::vector<uint8_t>(ISAL_DEF_LVL2_DEFAULT);
    std::vector<uint8_t> out = std::vector<uint8_t>(1 << 20);
    bool header_written = false;
};

GzipDeflater::GzipDeflater(Sink sink) : st_(std::make_unique<State>()), sink_(std::move(sink)) {
    isal_deflate_init(&st_->s);
    st_->s.level = 2;
    st_->s.level_buf = st_->level_buf.data();
    st_->s.level_buf_size = static_cast<uint32_t>(st_->level_buf.size());
    // The header is ours (no mtime, OS "Unix" as gzip -n writes it); igzip
    // writes the deflate stream and the trailer.
    st_->s.gzip_flag = IGZIP_GZIP_NO_HDR;
}

GzipDeflater::~GzipDeflater() = default;

Result<void> GzipDeflater::run(bool last) {
    auto& s = st_->s;
    if (!st_->header_written) {
        static const uint8_t header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
        BOCK_TRY(sink_(header, sizeof header));
        st_->header_written = true;
    }
    s.end_of_stream = last ? 1 : 0;
    s.flush = NO_FLUSH;
    do {
        s.next_out = st_->out.data();
        s.avail_out = static_cast<uint32_t>(st_->out.size());
        int r = isal_deflate(&s);
        if (r != COMP_OK) return make_error("gzip: igzip deflate failed ({})", r);
        size_t n = st_->out.size() - s.avail_out;
        if (n > 0) BOCK_TRY(sink_(st_->out.data(), n));
    } while (s.avail_in > 0 || s.avail_out == 0 || (last && s.internal_state.state != ZSTATE_END));
    return ok();
}

Result<void> GzipDeflater::write(const void* data, size_t len) {
    auto* p = static_cast<const uint8_t*>(data);
    while (len > 0) {
        // avail_in is 32 bits.
        size_t chunk = std::min<size_t>(len, 1u << 30);
        st_->s.next_in = const_cast<uint8_t*>(p);
        st_->s.avail_in = static_cast<uint32_t>(chunk);
        BOCK_TRY(run(false));
        p += chunk;
        len -= chunk;
    }
    return ok();
}

Result<void> GzipDeflater::finish() {
    st_->s.next_in = nullptr;
    st_->s.avail_in = 0;
    return run(true);
}

}  // namespace bock::image::detail
