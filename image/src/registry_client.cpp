// The registry HTTP client: libcurl easy handles, one per request, owned by
// a unique_ptr. Every failure becomes an Error naming the registry and the
// cause (a connect errno, an HTTP status with the registry's error code).
#include "registry_client.hpp"

#include <curl/curl.h>

#include <cctype>
#include <memory>

#include <nlohmann/json.hpp>

#include "bock/common/log.hpp"

namespace bock::image::detail {

namespace {

using nlohmann::json;

constexpr size_t max_manifest_bytes = 4u << 20;  // containers/image's limit
constexpr size_t max_small_body = 1u << 20;      // tokens, error documents

const char* accept_manifests =
    "Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json";

struct CurlDeleter {
    void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;
struct SlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

bool curl_ready() {
    static const bool ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    return ok;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return std::string(s);
}

std::string escape(CURL* h, const std::string& s) {
    char* e = curl_easy_escape(h, s.data(), static_cast<int>(s.size()));
    std::string out = e ? e : "";
    curl_free(e);
    return out;
}

}  // namespace

struct RegistryClient::Response {
    long status = 0;
    std::map<std::string, std::string> headers;  // of the last response, keys lower-cased
    std::string body;                            // when there was no sink, or status >= 300
    std::string url;
};

AuthChallenge parse_www_authenticate(std::string_view h) {
    AuthChallenge c;
    size_t i = 0;
    while (i < h.size() && h[i] == ' ') i++;
    size_t s = i;
    while (i < h.size() && h[i] != ' ') i++;
    c.scheme = lower(h.substr(s, i - s));
    while (i < h.size()) {
        while (i < h.size() && (h[i] == ' ' || h[i] == ',')) i++;
        size_t k = i;
        while (i < h.size() && h[i] != '=' && h[i] != ',') i++;
        std::string key = lower(trim(h.substr(k, i - k)));
        if (i >= h.size() || h[i] != '=') continue;
        i++;
        std::string value;
        if (i < h.size() && h[i] == '"') {
            for (i++; i < h.size() && h[i] != '"'; i++) {
                if (h[i] == '\\' && i + 1 < h.size()) i++;
                value += h[i];
            }
            i++;
        } else {
            size_t v = i;
            while (i < h.size() && h[i] != ',') i++;
            value = trim(h.substr(v, i - v));
        }
        if (!key.empty()) c.params[key] = value;
    }
    return c;
}

ManifestKind manifest_kind(const FetchedManifest& m) {
    std::string t = m.media_type;
    if (t.empty() || t == "application/json" || t == "text/plain") {
        try {
            auto j = json::parse(m.body);
            if (j.value("schemaVersion", 0) == 1) return ManifestKind::schema1;
            t = j.value("mediaType", "");
            if (t.empty()) return j.contains("manifests") ? ManifestKind::index : ManifestKind::image;
        } catch (const json::exception&) {
            return ManifestKind::unknown;
        }
    }
    if (t == media::oci_manifest || t == media::docker_manifest) return ManifestKind::image;
    if (t == media::oci_index || t == media::docker_list) return ManifestKind::index;
    if (t.starts_with("application/vnd.docker.distribution.manifest.v1")) return ManifestKind::schema1;
    return ManifestKind::unknown;
}

RegistryClient::RegistryClient(std::string domain, std::string repository, const PullOptions& opts)
    : host_(domain == "docker.io" ? "registry-1.docker.io" : std::move(domain)),
      repository_(std::move(repository)),
      tls_verify_(opts.tls_verify) {
    // podman's rule: plain http for loopback registries, and where the user
    // turned TLS verification off.
    bool plain = !tls_verify_ || is_loopback_registry(host_);
    base_ = fmt::format("{}://{}/v2/{}", plain ? "http" : "https", host_, repository_);
}

namespace {

struct Transfer {
    CURL* handle = nullptr;
    const BlobSink* sink = nullptr;
    size_t max_body = 0;
    std::string body;
    std::map<std::string, std::string> headers;
    std::optional<Error> error;  // why the write callback stopped the transfer
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    std::string_view line(data, size * n);
    if (line.starts_with("HTTP/")) {
        t->headers.clear();  // a new response (after a redirect or 100)
    } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
        t->headers[lower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
    }
    return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    size_t len = size * n;
    long status = 0;
    curl_easy_getinfo(t->handle, CURLINFO_RESPONSE_CODE, &status);
    if (t->sink && status >= 200 && status < 300) {
        if (auto r = (*t->sink)(data, len); !r) {
            t->error = std::move(r).error();
            return CURL_WRITEFUNC_ERROR;
        }
        return len;
    }
    if (t->body.size() + len > t->max_body) {
        t->error = make_error("response larger than {} bytes", t->max_body);
        return CURL_WRITEFUNC_ERROR;
    }
    t->body.append(data, len);
    return len;
}

}  // namespace

Result<RegistryClient::Response> RegistryClient::get(const std::string& url, const std::vector<std::string>& headers,
                                                     const BlobSink* sink, size_t max_body) {
    if (!curl_ready()) return make_error("initialise libcurl");
    CurlHandle h(curl_easy_init());
    if (!h) return make_error("initialise libcurl: out of memory");
    Transfer t;
    t.handle = h.get();
    t.sink = sink;
    t.max_body = max_body;
    Slist list;
    for (const auto& hd : headers) {
        curl_slist* n = curl_slist_append(list.get(), hd.c_str());
        if (!n) return make_error("initialise libcurl: out of memory");
        (void)list.release();
        list.reset(n);
    }
    char errbuf[CURL_ERROR_SIZE] = {};
    CURL* c = h.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list.get());
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);  // blob storage redirects
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);  // a stalled transfer fails after a minute
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "bock/" BOCK_VERSION);
    if (!tls_verify_) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    log::debug("GET {}", url);
    CURLcode rc = curl_easy_perform(c);
    if (t.error) return std::move(*t.error);
    if (rc != CURLE_OK) {
        long os_errno = 0;
        curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
        std::string why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
        if (rc == CURLE_COULDNT_CONNECT && os_errno != 0)
            return Error(static_cast<int>(os_errno), fmt::format("connect to {}", host_));
        if (rc == CURLE_COULDNT_RESOLVE_HOST) return make_error("resolve `{}`: {}", host_, lower(why));
        if (rc == CURLE_OPERATION_TIMEDOUT) return make_error("{}: timed out ({})", host_, lower(why));
        return make_error("GET {}: {}", url, lower(why));
    }
    Response r;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    r.headers = std::move(t.headers);
    r.body = std::move(t.body);
    r.url = url;
    return r;
}

Result<RegistryClient::Response> RegistryClient::get_authorized(const std::string& url,
                                                                const std::vector<std::string>& headers,
                                                                const BlobSink* sink, size_t max_body) {
    for (int attempt = 0;; attempt++) {
        auto hs = headers;
        if (!token_.empty()) hs.push_back("Authorization: Bearer " + token_);
        auto r = BOCK_TRY(get(url, hs, sink, max_body));
        if (r.status != 401 || attempt > 0) return r;
        auto it = r.headers.find("www-authenticate");
        if (it == r.headers.end()) return r;
        auto c = parse_www_authenticate(it->second);
        if (c.scheme != "bearer" || !c.params.contains("realm")) return r;
        BOCK_TRY(fetch_token(c));
    }
}

Result<void> RegistryClient::fetch_token(const AuthChallenge& c) {
    const std::string& realm = c.params.at("realm");
    if (!realm.starts_with("https://") && !realm.starts_with("http://"))
        return make_error("registry {}: token realm `{}` is not an http(s) url", host_, realm);
    CurlHandle h(curl_easy_init());
    if (!h) return make_error("initialise libcurl: out of memory");
    std::string url = realm + (realm.find('?') == std::string::npos ? "?" : "&");
    if (auto s = c.params.find("service"); s != c.params.end()) url += "service=" + escape(h.get(), s->second) + "&";
    auto sc = c.params.find("scope");
    std::string scope = sc != c.params.end() ? sc->second : "repository:" + repository_ + ":pull";
    url += "scope=" + escape(h.get(), scope);
    auto r = BOCK_TRY(get(url, {}, nullptr, max_small_body).context("get an anonymous token"));
    if (r.status != 200) return http_error(r, "get an anonymous token");
    try {
        auto j = json::parse(r.body);
        token_ = j.value("token", j.value("access_token", std::string()));
    } catch (const json::exception& e) {
        return make_error("token from `{}`: invalid json: {}", realm, e.what());
    }
    if (token_.empty()) return make_error("token from `{}`: no token in the answer", realm);
    return ok();
}

Error RegistryClient::http_error(const Response& r, const std::string& what) const {
    // The registry's own words: {"errors":[{"code":"MANIFEST_UNKNOWN","message":"..."}]}
    std::string detail;
    try {
        auto j = json::parse(r.body);
        for (const auto& e : j.at("errors")) {
            if (!detail.empty()) detail += "; ";
            detail += lower(e.value("message", e.value("code", "")));
        }
    } catch (const json::exception&) {
    }
    Error e = make_error("{}: registry {} answered http {}{}{}", what, host_, r.status, detail.empty() ? "" : ": ",
                         detail);
    if (r.status == 401 || r.status == 403)
        e.with_hint("the registry wants credentials; `bock login` is not available yet (anonymous pulls only)");
    return e;
}

Result<FetchedManifest> RegistryClient::get_manifest(const std::string& reference) {
    std::string url = base_ + "/manifests/" + reference;
    auto r = BOCK_TRY(get_authorized(url, {accept_manifests}, nullptr, max_manifest_bytes));
    std::string what = fmt::format("manifest `{}`", reference);
    if (r.status == 404) return make_error("{}: not found in {}/{}", what, host_, repository_);
    if (r.status != 200) return http_error(r, "get " + what);
    FetchedManifest m;
    m.body = std::move(r.body);
    m.digest = sha256_of(m.body);
    if (auto ct = r.headers.find("content-type"); ct != r.headers.end())
        m.media_type = trim(std::string_view(ct->second).substr(0, ct->second.find(';')));
    if (auto dh = r.headers.find("docker-content-digest"); dh != r.headers.end()) {
        auto d = Digest::parse(dh->second);
        if (d && *d != m.digest)
            return make_error("{}: digest mismatch (registry says {}, content is {})", what, d->str(), m.digest.str());
    }
    if (reference.starts_with("sha256:") && reference != m.digest.str())
        return make_error("{}: digest mismatch (content is {})", what, m.digest.str());
    return m;
}

Result<void> RegistryClient::get_blob(const Descriptor& d, const BlobSink& sink) {
    std::string url = base_ + "/blobs/" + d.digest.str();
    auto r = BOCK_TRY(get_authorized(url, {}, &sink, max_small_body));
    std::string what = fmt::format("blob {}", d.digest.str());
    if (r.status == 404) return make_error("{}: not found in {}/{}", what, host_, repository_);
    if (r.status != 200) return http_error(r, "get " + what);
    return ok();
}

}  // namespace bock::image::detail
