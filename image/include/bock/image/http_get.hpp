// One HTTP(S) GET into memory, for `ADD URL` (builder/): redirects
// followed, TLS verified, a size cap, and an error that names the URL and
// the status. Registry traffic has its own client (registry.hpp).
#pragma once

#include <cstddef>
#include <string>

#include "bock/common/error.hpp"

namespace bock::image {

struct HttpGetResult {
    std::string body;
    std::string effective_url;  // after redirects
};

Result<HttpGetResult> http_get(const std::string& url, size_t max_bytes);

}  // namespace bock::image
