// Content digests ("sha256:<64 hex>") computed with OpenSSL's libcrypto.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "bock/common/error.hpp"

namespace bock::image {

struct Digest {
    std::string algorithm = "sha256";
    std::string hex;  // lower-case, 64 chars for sha256

    static Result<Digest> parse(std::string_view s);  // "sha256:..." only
    std::string str() const { return algorithm + ":" + hex; }
    bool empty() const { return hex.empty(); }
    bool operator==(const Digest&) const = default;
};

class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(Sha256&&) noexcept;
    Sha256& operator=(Sha256&&) noexcept;
    void update(const void* data, size_t len);
    void update(std::string_view s) { update(s.data(), s.size()); }
    Digest finish();  // may be called once

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

Digest sha256_of(std::string_view data);
Result<Digest> sha256_of_file(const std::string& path);

}  // namespace bock::image
