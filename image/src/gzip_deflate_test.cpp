#include "gzip_deflate.hpp"

#include <zlib.h>

#include <catch2/catch.hpp>
#include <string>

using namespace bock;
using namespace bock::image::detail;

namespace {

// Compresses `data` written in pieces of `piece` bytes.
std::string deflate_pieces(const std::string& data, size_t piece) {
    std::string out;
    GzipDeflater gz([&](const void* b, size_t n) -> Result<void> {
        out.append(static_cast<const char*>(b), n);
        return ok();
    });
    for (size_t i = 0; i < data.size(); i += piece) REQUIRE(gz.write(data.data() + i, std::min(piece, data.size() - i)));
    REQUIRE(gz.finish());
    return out;
}

// zlib's gunzip, which checks the CRC and size trailer.
std::string gunzip(const std::string& in) {
    z_stream z{};
    REQUIRE(inflateInit2(&z, 16 + 15) == Z_OK);
    std::string out;
    char buf[65536];
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    int r;
    do {
        z.next_out = reinterpret_cast<Bytef*>(buf);
        z.avail_out = sizeof buf;
        r = inflate(&z, Z_NO_FLUSH);
        REQUIRE((r == Z_OK || r == Z_STREAM_END));
        out.append(buf, sizeof buf - z.avail_out);
    } while (r != Z_STREAM_END);
    CHECK(z.avail_in == 0);
    inflateEnd(&z);
    return out;
}

std::string sample(size_t n) {
    std::string s;
    uint32_t x = 11;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245 + 12345;
        s += (i / 4096) % 2 ? static_cast<char>(x >> 16) : static_cast<char>('a' + (x >> 16) % 7);
    }
    return s;
}

}  // namespace

TEST_CASE("igzip streams are gzip that zlib reads back, whatever the pieces", "[gzip]") {
    for (size_t n : {size_t{0}, size_t{1}, size_t{100000}, size_t{3} << 20}) {
        auto data = sample(n);
        for (size_t piece : {size_t{1} << 20, size_t{4093}}) {
            if (n > 200000 && piece < 65536) continue;
            INFO(n << " bytes in pieces of " << piece);
            auto gz = deflate_pieces(data, piece);
            CHECK(gz.substr(0, 10) == std::string("\x1f\x8b\x08\0\0\0\0\0\0\x03", 10));  // no name, no mtime
            CHECK(gunzip(gz) == data);
        }
    }
}

TEST_CASE("the same input gives the same gzip bytes", "[gzip]") {
    auto data = sample(1 << 20);
    CHECK(deflate_pieces(data, 1 << 20) == deflate_pieces(data, 1 << 20));
    CHECK(deflate_pieces(data, 1 << 20).size() < data.size());
}
