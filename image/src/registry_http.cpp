// One HTTP exchange with a registry: a libcurl easy handle per request,
// owned by a unique_ptr, so several threads may use one RegistryClient.
// TLS: the system's CAs plus the *.crt files of the cert dir (--cert-dir,
// else /etc/containers/certs.d/<host>/), client certificates *.cert/*.key.
// Scheme: https; a loopback or insecure registry that does not speak TLS
// is retried once over plain http and remembered (podman's behaviour).
#include <curl/curl.h>

#include "curl_lazy.hpp"
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "bock/common/fd.hpp"
#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "registry_client.hpp"

namespace bock::image::detail {

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

namespace {

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

struct Transfer {
    CURL* handle = nullptr;
    const RegistryClient::Request* req = nullptr;
    std::string body;
    std::map<std::string, std::string> headers;
    std::optional<Error> error;  // why a callback stopped the transfer
    uint64_t skipped = 0;
    // upload source
    int fd = -1;
    int64_t sent = 0;
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
    if (t->req->sink && status >= 200 && status < 300) {
        size_t drop = 0;
        if (status == 200 && t->skipped < t->req->skip)
            drop = static_cast<size_t>(std::min<uint64_t>(len, t->req->skip - t->skipped));
        t->skipped += drop;
        if (drop < len) {
            if (auto r = (*t->req->sink)(data + drop, len - drop); !r) {
                t->error = std::move(r).error();
                return CURL_WRITEFUNC_ERROR;
            }
        }
        return len;
    }
    if (t->body.size() + len > t->req->max_body) {
        t->error = make_error("response larger than {} bytes", t->req->max_body);
        return CURL_WRITEFUNC_ERROR;
    }
    t->body.append(data, len);
    return len;
}

size_t on_read(char* buf, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const auto& req = *t->req;
    size_t want = size * n;
    if (req.data) {
        size_t left = req.data->size() - static_cast<size_t>(t->sent);
        size_t k = std::min(want, left);
        std::memcpy(buf, req.data->data() + t->sent, k);
        t->sent += static_cast<int64_t>(k);
        return k;
    }
    int64_t left = req.file_length - t->sent;
    if (left <= 0) return 0;
    size_t k = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(want), left));
    ssize_t got;
    do {
        got = ::pread(t->fd, buf, k, req.file_offset + t->sent);
    } while (got < 0 && errno == EINTR);
    if (got <= 0) {
        t->error = got < 0 ? Error::from_errno(fmt::format("read `{}`", req.file))
                           : make_error("read `{}`: file shorter than expected", req.file);
        return CURL_READFUNC_ABORT;
    }
    t->sent += got;
    return static_cast<size_t>(got);
}

std::vector<std::string> files_with_suffix(const std::string& dir, std::string_view suffix) {
    std::vector<std::string> out;
    for (const auto& name : fs::list_dir(dir).value_or(std::vector<std::string>{}))
        if (name.ends_with(suffix)) out.push_back(dir + "/" + name);
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

RegistryClient::RegistryClient(std::string domain, std::string repository, const PullOptions& opts)
    : RegistryClient(std::move(domain), std::move(repository),
                     ClientOptions{opts.tls_verify, opts.cert_dir, opts.authfile, false, std::nullopt}) {}

RegistryClient::RegistryClient(std::string domain, std::string repository, ClientOptions opts)
    : host_(domain == "docker.io" ? "registry-1.docker.io" : domain),
      domain_(std::move(domain)),
      repository_(std::move(repository)),
      path_("/v2/" + repository_),
      opts_(std::move(opts)) {
    std::string dir = opts_.cert_dir;
    if (dir.empty()) {
        const char* home = std::getenv("HOME");
        for (const std::string& base : {std::string("/etc/containers/certs.d"),
                                        std::string(home ? home : "/") + "/.config/containers/certs.d"})
            if (fs::is_dir(base + "/" + host_)) dir = base + "/" + host_;
    }
    if (!dir.empty()) {
        auto cas = files_with_suffix(dir, ".crt");
        if (!cas.empty()) {
            if (auto sys = fs::read_file("/etc/ssl/certs/ca-certificates.crt")) ca_blob_ = *sys + "\n";
            for (const auto& f : cas)
                if (auto pem = fs::read_file(f)) ca_blob_ += *pem + "\n";
        }
        for (const auto& cert : files_with_suffix(dir, ".cert")) {
            std::string key = cert.substr(0, cert.size() - 5) + ".key";
            if (fs::exists(key)) {
                client_cert_ = cert;
                client_key_ = key;
                break;
            }
        }
    }
    // An explicit cert dir means TLS; otherwise loopback and insecure
    // registries may fall back to http.
    if (!opts_.cert_dir.empty() || (opts_.tls_verify && !is_loopback_registry(host_))) scheme_ = "https";
}

std::string RegistryClient::scheme() {
    std::lock_guard lk(mu_);
    return scheme_.empty() ? "https" : scheme_;
}

std::string RegistryClient::absolute(const std::string& url) const {
    if (url.starts_with("http://") || url.starts_with("https://")) return url;
    std::lock_guard lk(mu_);
    return (scheme_.empty() ? "https" : scheme_) + "://" + host_ + url;
}

Result<RegistryClient::Response> RegistryClient::perform(const Request& req) {
    if (!curl_ready())
        return make_error("initialise libcurl: {}", curl_load_error().empty() ? "curl_global_init failed" : curl_load_error())
            .with_hint("Debian's libcurl4 package provides libcurl.so.4");
    bool relative = !req.url.starts_with("http://") && !req.url.starts_with("https://");
    bool probing;
    {
        std::lock_guard lk(mu_);
        probing = relative && scheme_.empty();
    }
    std::string url = absolute(req.url);
    CurlHandle h(curl_easy_init());
    if (!h) return make_error("initialise libcurl: out of memory");
    Transfer t;
    t.handle = h.get();
    t.req = &req;
    Fd file;
    if (!req.file.empty()) {
        int fd = ::open(req.file.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return Error::from_errno(fmt::format("open `{}`", req.file));
        file = Fd(fd);
        t.fd = fd;
    }
    Slist list;
    auto hs = req.headers;
    hs.push_back("Expect:");  // no 100-continue round trip before uploads
    for (const auto& hd : hs) {
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
    if (req.follow) {
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);  // blob storage redirects
        curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    }
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);  // a stalled transfer fails after a minute
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "bock/" BOCK_VERSION);
    if (!opts_.tls_verify) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    curl_blob ca{const_cast<char*>(ca_blob_.data()), ca_blob_.size(), CURL_BLOB_NOCOPY};
    if (!ca_blob_.empty()) curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
    if (!client_cert_.empty()) {
        curl_easy_setopt(c, CURLOPT_SSLCERT, client_cert_.c_str());
        curl_easy_setopt(c, CURLOPT_SSLKEY, client_key_.c_str());
    }
    if (req.method == "HEAD") {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (req.method == "POST") {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        const std::string& d = req.data ? *req.data : std::string();
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(d.size()));
        curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS, d.c_str());
    } else if (req.method == "PUT" || req.method == "PATCH") {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &t);
        curl_off_t len = req.data ? static_cast<curl_off_t>(req.data->size()) : req.file_length;
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, len);
        if (req.method == "PATCH") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PATCH");
    } else if (req.method != "GET") {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    }
    log::debug("{} {}", req.method, url);
    CURLcode rc = curl_easy_perform(c);
    if (t.error) return std::move(*t.error);
    if (rc == CURLE_SSL_CONNECT_ERROR && probing && url.starts_with("https://")) {
        // Not a TLS server: a loopback or insecure registry on plain http.
        log::debug("{}: no TLS ({}), retrying over http", host_, errbuf);
        {
            std::lock_guard lk(mu_);
            scheme_ = "http";
        }
        return perform(req);
    }
    if (rc != CURLE_OK) {
        long os_errno = 0;
        curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
        std::string why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
        if (rc == CURLE_COULDNT_CONNECT && os_errno != 0)
            return Error(static_cast<int>(os_errno), fmt::format("connect to {}", host_));
        if (rc == CURLE_COULDNT_RESOLVE_HOST) return make_error("resolve `{}`: {}", host_, lower(why));
        if (rc == CURLE_OPERATION_TIMEDOUT) return make_error("{}: timed out ({})", host_, lower(why));
        if (rc == CURLE_PEER_FAILED_VERIFICATION)
            return make_error("{}: tls certificate not trusted: {}", host_, lower(why))
                .with_hint("pass --cert-dir DIR with the registry's CA as DIR/*.crt, or --tls-verify=false");
        return make_error("{} {}: {}", req.method, url, lower(why));
    }
    if (probing) {
        std::lock_guard lk(mu_);
        if (scheme_.empty()) scheme_ = url.starts_with("https://") ? "https" : "http";
    }
    Response r;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    r.headers = std::move(t.headers);
    r.body = std::move(t.body);
    r.url = url;
    return r;
}

}  // namespace bock::image::detail
