#include "layer_stream.hpp"

#include <cstdlib>

#include "bock/common/log.hpp"

namespace bock::image {

namespace {

uint64_t env_u64(const char* name, uint64_t fallback) {
    const char* v = ::getenv(name);
    if (!v || !*v) return fallback;
    char* end = nullptr;
    unsigned long long n = std::strtoull(v, &end, 10);
    if (!end || *end) {
        log::warn("{}=`{}` is not a number; using {}", name, v, fallback);
        return fallback;
    }
    return n;
}

}  // namespace

ExtractLimits ExtractLimits::from_env() {
    ExtractLimits l;
    l.max_size = env_u64("BOCK_LAYER_MAX_SIZE", l.max_size);
    l.max_ratio = env_u64("BOCK_LAYER_MAX_RATIO", l.max_ratio);
    return l;
}

namespace detail {

Result<std::unique_ptr<DecompressedStream>> DecompressedStream::open(int fd, const ExtractLimits& limits) {
    std::unique_ptr<DecompressedStream> s(new DecompressedStream());
    s->limits_ = limits;
    s->outer_.reset(archive_read_new());
    if (!s->outer_) return make_error("layer: out of memory");
    archive_read_support_filter_all(s->outer_.get());
    archive_read_support_format_raw(s->outer_.get());
    archive_read_support_format_empty(s->outer_.get());
    if (archive_read_open_fd(s->outer_.get(), fd, 1 << 17) != ARCHIVE_OK)
        return make_error("layer: {}", archive_err(s->outer_.get()));
    struct archive_entry* e;
    int r = archive_read_next_header(s->outer_.get(), &e);
    if (r == ARCHIVE_EOF) {
        s->eof_ = true;  // an empty blob: an empty stream
    } else if (r < ARCHIVE_WARN) {
        return make_error("layer: {}", archive_err(s->outer_.get()));
    }
    return s;
}

uint64_t DecompressedStream::compressed() const {
    la_int64_t n = archive_filter_bytes(outer_.get(), -1);
    return n > 0 ? static_cast<uint64_t>(n) : 0;
}

la_ssize_t DecompressedStream::read_cb(struct archive*, void* self, const void** buf) {
    return static_cast<DecompressedStream*>(self)->read(buf);
}

la_ssize_t DecompressedStream::read(const void** buf) {
    if (eof_ || failure_) return 0;
    size_t len = 0;
    la_int64_t off = 0;
    int r = archive_read_data_block(outer_.get(), buf, &len, &off);
    if (r == ARCHIVE_EOF) {
        eof_ = true;
        return 0;
    }
    if (r < ARCHIVE_WARN) {
        failure_ = make_error("decompress layer: {}", archive_err(outer_.get()));
        return -1;
    }
    hash_.update(*buf, len);
    total_ += len;
    if (limits_.max_size && total_ > limits_.max_size) {
        failure_ = make_error(
            "layer decompresses to more than {} bytes: refused as a decompression bomb (raise "
            "BOCK_LAYER_MAX_SIZE, or 0 for no cap, if the image is trusted)",
            limits_.max_size);
        return -1;
    }
    if (limits_.max_ratio && total_ > limits_.ratio_after) {
        uint64_t in = compressed();
        if (in == 0 || total_ / in > limits_.max_ratio) {
            failure_ = make_error(
                "layer decompresses {}:1 ({} bytes from {}): refused as a decompression bomb (cap {}:1; raise "
                "BOCK_LAYER_MAX_RATIO, or 0 for no cap, if the image is trusted)",
                in ? total_ / in : 0, total_, in, limits_.max_ratio);
            return -1;
        }
    }
    return static_cast<la_ssize_t>(len);
}

Result<void> DecompressedStream::attach(struct archive* tar) {
    if (archive_read_open(tar, this, nullptr, &DecompressedStream::read_cb, nullptr) != ARCHIVE_OK) {
        if (failure_) return *failure_;
        return make_error("layer: {}", archive_err(tar));
    }
    return ok();
}

Result<Digest> DecompressedStream::finish() {
    const void* buf;
    while (!eof_) {
        if (read(&buf) < 0) break;
    }
    if (failure_) return *failure_;
    return hash_.finish();
}

}  // namespace detail
}  // namespace bock::image
