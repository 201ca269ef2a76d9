// sha256 digests with OpenSSL's EVP interface.
#include "bock/image/digest.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <openssl/evp.h>

#include "bock/common/sys.hpp"

namespace bock::image {

struct Sha256::Impl {
    EVP_MD_CTX* ctx = nullptr;
    ~Impl() {
        if (ctx) EVP_MD_CTX_free(ctx);
    }
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
    impl_->ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr);
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(const void* data, size_t len) {
    if (impl_ && impl_->ctx && len > 0) EVP_DigestUpdate(impl_->ctx, data, len);
}

Digest Sha256::finish() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(impl_->ctx, md, &n);
    static const char* hexd = "0123456789abcdef";
    Digest d;
    d.hex.reserve(n * 2);
    for (unsigned i = 0; i < n; i++) {
        d.hex.push_back(hexd[md[i] >> 4]);
        d.hex.push_back(hexd[md[i] & 15]);
    }
    return d;
}

Result<Digest> Digest::parse(std::string_view s) {
    auto colon = s.find(':');
    if (colon == std::string_view::npos)
        return make_error("invalid digest `{}`: missing algorithm (expected sha256:<64 hex>)", s);
    auto algo = s.substr(0, colon);
    auto hex = s.substr(colon + 1);
    if (algo != "sha256")
        return make_error("invalid digest `{}`: unsupported algorithm `{}` (only sha256)", s, algo);
    if (hex.size() != 64)
        return make_error("invalid digest `{}`: expected 64 hex characters, got {}", s, hex.size());
    for (char c : hex) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return make_error("invalid digest `{}`: `{}` is not a lower-case hex character", s, c);
    }
    Digest d;
    d.hex = std::string(hex);
    return d;
}

Digest sha256_of(std::string_view data) {
    Sha256 h;
    h.update(data);
    return h.finish();
}

Result<Digest> sha256_of_file(const std::string& path) {
    auto fd = BOCK_TRY(sys::open(path, O_RDONLY));
    Sha256 h;
    char buf[65536];
    for (;;) {  // chunked: a layer blob may be larger than memory
        int n = sys::raw::read_all(fd.get(), buf, sizeof buf);
        if (n < 0) return Error(-n, fmt::format("read `{}`", path));
        h.update(buf, static_cast<size_t>(n));
        if (static_cast<size_t>(n) < sizeof buf) break;  // end of file
    }
    return h.finish();
}

}  // namespace bock::image
