// The registry HTTP client (libcurl): manifests, blobs, uploads, tags and
// referrers of one repository over the Docker Registry HTTP API v2 / OCI
// distribution spec, with anonymous, Basic and Bearer (token) access.
// One easy handle per request; a client may be used from several threads
// at once (the auth state is guarded by a mutex).
//   registry_http.cpp    one HTTP exchange (curl options, TLS, cert dirs)
//   registry_auth.cpp    WWW-Authenticate, Basic, the token flow, 401 retry
//   registry_client.cpp  manifests, blobs (HEAD, ranged GET), tags, referrers
//   registry_upload.cpp  blob uploads (monolithic, chunked), mounts, PUT manifest
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bock/common/strings.hpp"
#include "bock/common/error.hpp"
#include "bock/image/credentials.hpp"
#include "bock/image/digest.hpp"
#include "bock/image/oci.hpp"
#include "bock/image/registry.hpp"

namespace bock::image::detail {

// ASCII lower-casing and whitespace trimming for HTTP header names and values.
std::string lower(std::string_view s);
using strings::trim;

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

// How to reach and authenticate to a registry.
struct ClientOptions {
    bool tls_verify = true;
    std::string cert_dir;
    std::string authfile;
    bool push = false;  // ask tokens for "pull,push"
    // Use these instead of the credentials chain (bock login).
    std::optional<Credentials> credentials;
};

class RegistryClient {
public:
    // domain as in a Reference ("127.0.0.1:5000", "docker.io"); repository
    // its path ("library/busybox"); empty for registry-wide calls (ping).
    RegistryClient(std::string domain, std::string repository, const PullOptions& opts);
    RegistryClient(std::string domain, std::string repository, ClientOptions opts);

    // GET /v2/: checks that the registry answers and that the credentials
    // (if any) are accepted; a clear error otherwise.
    Result<void> ping();

    // GET /v2/<repository>/manifests/<reference> (a tag or a digest).
    Result<FetchedManifest> get_manifest(const std::string& reference);
    // HEAD of a manifest: its digest, or nullopt when the registry has none.
    Result<std::optional<Digest>> manifest_digest(const std::string& reference);
    // GET /v2/<repository>/blobs/<digest>, streamed to `sink`. With
    // `offset` > 0, only the bytes from there on (Range; a registry that
    // ignores the range has its first `offset` bytes dropped).
    Result<void> get_blob(const Descriptor& d, const BlobSink& sink);
    Result<void> get_blob(const Descriptor& d, const BlobSink& sink, uint64_t offset);
    // HEAD /v2/<repository>/blobs/<digest>.
    Result<bool> blob_exists(const Digest& d);

    // Cross-repository mount from `from` (a repository of this registry):
    // true when mounted; false when the registry wants an upload instead.
    Result<bool> mount_blob(const Digest& d, const std::string& from);
    // Uploads the file `path` (size bytes, digest d): one PUT, or PATCH
    // chunks of `chunk_size` then a PUT when chunk_size > 0.
    Result<void> upload_blob(const Digest& d, const std::string& path, int64_t size, size_t chunk_size = 0);
    // PUT /v2/<repository>/manifests/<reference>; returns the digest the
    // registry reports (checked against the content).
    Result<Digest> put_manifest(const std::string& reference, const std::string& media_type,
                                const std::string& body);

    // GET /v2/<repository>/tags/list, following Link pagination (pages of
    // `page_size` tags when > 0: ?n=).
    Result<std::vector<std::string>> list_tags(size_t page_size = 0);
    // GET /v2/<repository>/referrers/<digest>: the index, or nullopt when
    // the registry has no referrers API (404).
    Result<std::optional<std::string>> referrers(const Digest& d, const std::string& artifact_type = {});

    const std::string& host() const { return host_; }

    // One HTTP exchange (registry_http.cpp).
    struct Request {
        std::string method = "GET";
        std::string url;  // absolute, or a path ("/v2/...") on this registry
        std::vector<std::string> headers;
        const BlobSink* sink = nullptr;  // for 2xx bodies
        size_t max_body = 1u << 20;
        uint64_t skip = 0;                // bytes to drop from a 200 body (ignored Range)
        std::optional<std::string> data;  // a body from memory (POST/PUT/PATCH)
        std::string file;                 // or from this file...
        int64_t file_offset = 0;          // ...these bytes
        int64_t file_length = 0;
        bool follow = false;              // follow redirects (GETs of blobs)
    };
    struct Response {
        long status = 0;
        std::map<std::string, std::string> headers;  // of the last response, keys lower-cased
        std::string body;                            // when there was no sink, or status >= 300
        std::string url;
    };

private:
    // The request as-is, with no Authorization added.
    Result<Response> perform(const Request& req);
    // With the current Authorization; on a 401, authenticates per the
    // challenge (once) and retries.
    Result<Response> perform_authorized(Request req);
    // Answers a challenge: sets auth_header_ (Basic or a Bearer token).
    Result<void> authenticate(const AuthChallenge& c, const std::string& failed_header);
    Result<std::string> fetch_token(const AuthChallenge& c, const std::optional<Credentials>& creds);
    Result<std::optional<Credentials>> credentials();
    std::string absolute(const std::string& url) const;
    std::string scheme();
    Error http_error(const Response& r, const std::string& what) const;

    std::string host_;        // where requests go ("registry-1.docker.io" for docker.io)
    std::string domain_;      // as the user named it (for credentials)
    std::string repository_;
    std::string path_;        // "/v2/<repository>"
    ClientOptions opts_;
    std::string ca_blob_;     // PEM: system CAs + cert dir's *.crt (empty: curl's default)
    std::string client_cert_, client_key_;

    mutable std::mutex mu_;   // guards everything below
    std::string scheme_;      // "https" or "http"; empty until decided
    std::string auth_header_;  // "Authorization: ..." or empty
    bool creds_loaded_ = false;
    std::optional<Credentials> creds_;
    std::mutex auth_mu_;      // serializes authenticate()
};

}  // namespace bock::image::detail
