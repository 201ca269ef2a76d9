// The image operations `bock` offers, as the engine's API: the CLI parses
// flags into these requests and prints the results; the policy (pull
// policy, registries.conf, which transport a destination names, how many
// containers use an image) lives here. The image types the CLI needs are
// named through the engine (engine::ImageRecord, engine::BlobEvent), so
// cli/ includes no image/ header.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "bock/common/error.hpp"
#include "bock/engine/context.hpp"
#include "bock/image/registry.hpp"
#include "bock/image/store.hpp"
#include "bock/image/transport.hpp"

namespace bock::engine {

using ImageRecord = image::ImageRecord;
using BlobEvent = image::BlobEvent;
using ImportOptions = image::ImportOptions;

// --tls-verify, --cert-dir, --authfile (podman's names and meanings).
struct RegistryAccess {
    bool tls_verify = true;
    std::string cert_dir;
    std::string authfile;
};

// Progress callbacks of a pull: one line per step, per-blob events (called
// from download threads: must be thread-safe). Either may be empty.
struct PullProgressHooks {
    std::function<void(std::string_view)> line;
    std::function<void(const BlobEvent&)> blob;
};

struct PullRequest {
    std::string name;      // as typed: [REGISTRY/]NAME[:TAG|@DIGEST]
    RegistryAccess access;
    std::string platform;  // OS/ARCH[/VARIANT]; empty: this machine
    PullProgressHooks progress;
};

// Pulls through registries.conf (short names, mirrors, blocked registries).
Result<ImageRecord> pull_image(Context& ctx, const PullRequest& req);

enum class PullPolicy { missing, always, never };
Result<PullPolicy> parse_pull_policy(const std::string& s);
// `bock run --pull=POLICY`: pulls `typed` when the policy asks for it. The
// built-in default image is never pulled (it is made on demand).
Result<void> ensure_image(Context& ctx, const std::string& typed, PullPolicy policy, const PullProgressHooks& progress);

struct PushRequest {
    std::string image;  // local name or id
    std::string dest;   // [docker://]REF, oci:DIR[:TAG], oci-archive:F[:TAG], docker-archive:F; empty: the image's name
    RegistryAccess access;
    std::function<void(std::string_view)> progress;  // may be empty
};
struct PushResult {
    std::string image;        // the local image's name
    std::string destination;  // as written
    std::string digest;       // the manifest digest kept at the destination; empty: not kept (docker-archive)
    bool registry = false;    // pushed to a registry (else written through a transport)
};
Result<PushResult> push_image(Context& ctx, const PushRequest& req);

// `bock copy SRC DST` between transports and the local store; returns the
// source manifest's digest.
Result<std::string> copy_image(Context& ctx, const std::string& src, const std::string& dst, const RegistryAccess& access);

Result<ImageRecord> import_image(Context& ctx, const std::string& tarball, const std::string& name,
                                 const ImportOptions& opts);
// An OCI archive, a docker-save archive or an OCI layout directory ("-":
// standard input).
Result<std::vector<ImageRecord>> load_images(Context& ctx, const std::string& input);
// format: oci-archive, docker-archive or oci-dir; out "-": standard output.
Result<void> save_images(Context& ctx, const std::vector<std::string>& names, const std::string& format,
                         const std::string& out);

// The store's images, one record per name (dangling ones with no name).
Result<std::vector<ImageRecord>> list_images(Context& ctx);
// podman's `images --format json`: one object per image, with the number
// of containers using it.
Result<nlohmann::json> images_json(Context& ctx);
// "REPOSITORY", "TAG" of a record's name (<none> for dangling images).
std::pair<std::string, std::string> repository_and_tag(const ImageRecord& rec);
// podman image inspect's JSON; nullopt when there is no such image.
Result<std::optional<nlohmann::json>> inspect_image(Context& ctx, const std::string& name);

Result<void> tag_image(Context& ctx, const std::string& source, const std::string& target);
struct RemovedImage {
    std::vector<std::string> untagged, deleted;
};
// Refused (exit status 2) while a container uses the image, unless `force`.
Result<RemovedImage> remove_image(Context& ctx, const std::string& name, bool force);
// Dangling images (all: every image no container uses); returns the ids.
Result<std::vector<std::string>> prune_images(Context& ctx, bool all);

// bock login / logout (no store, no session needed).
std::string registry_of(std::string_view arg);
Result<void> login(const std::string& registry, const std::string& user, const std::string& password,
                   const RegistryAccess& access);
// Returns the auth file used; false when there was no entry.
Result<std::pair<std::string, bool>> logout(const std::string& registry, const std::string& authfile);

}  // namespace bock::engine
