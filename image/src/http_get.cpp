#include "bock/image/http_get.hpp"

#include <curl/curl.h>

#include "curl_lazy.hpp"

#include <memory>

#include <fmt/format.h>

namespace bock::image {
namespace {

struct Sink {
    std::string body;
    size_t max = 0;
    bool too_big = false;
};

size_t on_body(char* p, size_t size, size_t n, void* user) {
    auto* s = static_cast<Sink*>(user);
    size_t len = size * n;
    if (s->body.size() + len > s->max) {
        s->too_big = true;
        return 0;  // stops the transfer
    }
    s->body.append(p, len);
    return len;
}

struct CurlDeleter {
    void operator()(CURL* h) const { curl_easy_cleanup(h); }
};

}  // namespace

Result<HttpGetResult> http_get(const std::string& url, size_t max_bytes) {
    static const bool ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    if (!ready)
        return make_error("initialise libcurl: {}", curl_load_error().empty() ? "curl_global_init failed" : curl_load_error())
            .with_hint("Debian's libcurl4 package provides libcurl.so.4");
    std::unique_ptr<CURL, CurlDeleter> h(curl_easy_init());
    if (!h) return make_error("initialise libcurl: out of memory");
    CURL* c = h.get();
    Sink sink;
    sink.max = max_bytes;
    char errbuf[CURL_ERROR_SIZE] = {};
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);  // a stalled download fails after a minute
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "bock/" BOCK_VERSION);
    CURLcode rc = curl_easy_perform(c);
    if (sink.too_big)
        return make_error("download `{}`: larger than {} MiB", url, max_bytes >> 20)
            .with_hint("download it beforehand into the build context and COPY it");
    if (rc != CURLE_OK)
        return make_error("download `{}`: {}", url, errbuf[0] ? errbuf : curl_easy_strerror(rc))
            .with_hint("check the URL and that the host is reachable from this machine");
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status >= 300) return make_error("download `{}`: HTTP status {}", url, status);
    HttpGetResult out;
    out.body = std::move(sink.body);
    char* eff = nullptr;
    curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &eff);
    out.effective_url = eff ? eff : url;
    return out;
}

}  // namespace bock::image
