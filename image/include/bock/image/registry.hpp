// Pulling from a registry (Docker Registry HTTP API v2 / OCI distribution):
// what the front end passes to Store::pull. The HTTP client itself
// (libcurl) is private to the image library.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "bock/common/error.hpp"
#include "bock/image/reference.hpp"

namespace bock::image {

// An image platform "os/arch[/variant]" (GOOS/GOARCH names: linux/amd64,
// linux/arm64/v8).
struct Platform {
    std::string os;
    std::string architecture;
    std::string variant;  // empty: any

    static Result<Platform> parse(std::string_view s);
    // linux and the architecture this binary was built for.
    static Platform host();
    std::string str() const;
    // Whether an index entry's "platform" object is this platform.
    bool matches(const nlohmann::json& platform) const;
};

// Progress of one blob of a pull, for a progress display.
struct BlobEvent {
    enum class Stage {
        start,     // download begins (size known from the descriptor)
        progress,  // `bytes` received so far
        done,      // verified and stored (and extracted, for a layer)
        exists,    // already in the store: skipped
    };
    Stage stage = Stage::start;
    std::string digest;  // "sha256:..."
    int64_t size = 0;    // from the descriptor
    int64_t bytes = 0;   // received so far
    bool config = false; // the image config (not a layer)
};

struct PullOptions {
    // false: plain http and no certificate checks. Loopback registries
    // (localhost, 127.0.0.0/8, ::1) always use http, as podman does.
    bool tls_verify = true;
    std::optional<Platform> platform;  // default: Platform::host()
    // Called with one line per step ("Copying blob sha256:..."); may be empty.
    std::function<void(std::string_view)> progress;
    // A directory of *.crt CA files (and *.cert/*.key client certificates)
    // for the registry, as podman's --cert-dir; empty: the system's CAs
    // and /etc/containers/certs.d/<host>/ when it exists.
    std::string cert_dir;
    // An auth file to read first (--authfile); empty: $REGISTRY_AUTH_FILE,
    // then the default chain (credentials.hpp).
    std::string authfile;
    // Fetch from this repository instead of the reference's own (a mirror,
    // or the location registries.conf maps it to); the image keeps the
    // reference's name.
    std::optional<Reference> source;
    // Per-blob events; called from the download threads at once, so it must
    // be thread-safe. May be empty.
    std::function<void(const BlobEvent&)> on_blob;
    // Layers downloaded at once; 0: BOCK_PULL_PARALLEL, else 4.
    unsigned parallel = 0;
};

// Pushing to a registry (push.cpp); same access options as a pull.
struct PushOptions {
    bool tls_verify = true;
    std::string cert_dir;
    std::string authfile;
    // One line per step ("Copying blob sha256:..."); may be empty.
    std::function<void(std::string_view)> progress;
    // Upload blobs in chunks of this many bytes (PATCH); 0: one PUT each.
    // $BOCK_PUSH_CHUNK_SIZE sets it when 0 (a test hook).
    size_t chunk_size = 0;
};

// Whether a registry domain ("127.0.0.1:5000", "localhost") is loopback.
bool is_loopback_registry(std::string_view domain);

}  // namespace bock::image
