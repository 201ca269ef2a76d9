#include "gzip_inflate.hpp"

#include <zlib.h>

#include <catch2/catch.hpp>
#include <string>

using namespace bock;
using namespace bock::image;
using namespace bock::image::detail;

namespace {

std::string gz(const std::string& data) {
    z_stream z{};
    REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out(deflateBound(&z, data.size()) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

std::string sample(size_t n) {
    std::string s;
    uint32_t x = 7;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245 + 12345;
        s += (i / 1000) % 2 ? static_cast<char>(x >> 16) : static_cast<char>('a' + (x >> 16) % 5);
    }
    return s;
}

// Inflates `in` fed in pieces of `piece` bytes.
Result<std::string> inflate(const std::string& in, size_t piece, ExtractLimits limits = {}) {
    std::string out;
    GzipInflater g(limits, [&](const char* d, size_t n) -> Result<void> {
        out.append(d, n);
        return ok();
    });
    for (size_t off = 0; off < in.size(); off += piece)
        BOCK_TRY(g.feed(in.data() + off, std::min(piece, in.size() - off)));
    BOCK_TRY(g.finish());
    return out;
}

}  // namespace

TEST_CASE("igzip inflates gzip streams fed in any pieces", "[gzip]") {
    auto data = sample(3 << 20);
    auto z = gz(data);
    CHECK(GzipInflater::is_gzip(z.data(), z.size()));
    for (size_t piece : {size_t{1} << 20, size_t{16384}, size_t{7}}) {
        if (piece == 7) z = gz(data.substr(0, 100000)), data = data.substr(0, 100000);
        auto r = inflate(z, piece);
        REQUIRE(r);
        CHECK(*r == data);
    }
    // Concatenated members are one stream; zero padding after them is ignored.
    auto two = inflate(gz("hello ") + gz("world") + std::string(512, '\0'), 3);
    REQUIRE(two);
    CHECK(*two == "hello world");
}

TEST_CASE("igzip refuses corrupt, truncated and bomb streams", "[gzip]") {
    auto z = gz(sample(200000));
    auto bad_crc = z;
    bad_crc[bad_crc.size() - 6] ^= 1;
    auto r = inflate(bad_crc, 4096);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().to_string(), Catch::Contains("checksum"));

    auto cut = inflate(z.substr(0, z.size() / 2), 4096);
    REQUIRE_FALSE(cut);
    CHECK_THAT(cut.error().to_string(), Catch::Contains("truncated"));

    ExtractLimits tight;
    tight.max_ratio = 10;
    tight.ratio_after = 1 << 20;
    auto bomb = inflate(gz(std::string(8 << 20, '\0')), 65536, tight);
    REQUIRE_FALSE(bomb);
    CHECK_THAT(bomb.error().to_string(), Catch::Contains("decompression bomb"));
}
