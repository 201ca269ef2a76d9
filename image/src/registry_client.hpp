// The registry HTTP client (libcurl): manifests and blobs of one repository
// over the Docker Registry HTTP API v2 / OCI distribution spec, anonymous
// or with an anonymous Bearer token when the registry asks for one. One
// easy handle per request; requests are sequential (parallel layer
// downloads are a later step).
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/image/digest.hpp"
#include "bock/image/oci.hpp"
#include "bock/image/registry.hpp"

namespace bock::image::detail {

struct FetchedManifest {
    std::string media_type;  // Content-Type, else the body's mediaType
    std::string body;
    Digest digest;  // sha256 of the body, checked against Docker-Content-Digest
};

// Receives a blob's bytes as they arrive; an error aborts the download.
using BlobSink = std::function<Result<void>(const char* data, size_t len)>;

// A parsed WWW-Authenticate challenge: `Bearer realm="...",service="..."`.
struct AuthChallenge {
    std::string scheme;  // lower-cased: "bearer", "basic"
    std::map<std::string, std::string> params;  // keys lower-cased
};
AuthChallenge parse_www_authenticate(std::string_view header);

// What the image's manifest turned out to be, from its media type (or, when
// the registry sent none, from its fields).
enum class ManifestKind { image, index, schema1, unknown };
ManifestKind manifest_kind(const FetchedManifest& m);

class RegistryClient {
public:
    // domain as in a Reference ("127.0.0.1:5000", "docker.io"); repository
    // its path ("library/busybox").
    RegistryClient(std::string domain, std::string repository, const PullOptions& opts);

    // GET /v2/<repository>/manifests/<reference> (a tag or a digest).
    Result<FetchedManifest> get_manifest(const std::string& reference);
    // GET /v2/<repository>/blobs/<digest>, streamed to `sink`.
    Result<void> get_blob(const Descriptor& d, const BlobSink& sink);

    const std::string& host() const { return host_; }

private:
    struct Response;
    Result<Response> get(const std::string& url, const std::vector<std::string>& headers, const BlobSink* sink,
                         size_t max_body);
    // GET with the token, fetching one on a Bearer challenge and retrying once.
    Result<Response> get_authorized(const std::string& url, const std::vector<std::string>& headers,
                                    const BlobSink* sink, size_t max_body);
    Result<void> fetch_token(const AuthChallenge& c);
    Error http_error(const Response& r, const std::string& what) const;

    std::string host_;        // where requests go ("registry-1.docker.io" for docker.io)
    std::string repository_;
    std::string base_;        // "<scheme>://<host>/v2/<repository>"
    bool tls_verify_ = true;
    std::string token_;
};

}  // namespace bock::image::detail
