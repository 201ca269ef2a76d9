// Image locations as skopeo and podman name them, and moving images
// between them and the local store:
//   docker://REF                 a registry (wired by the front end)
//   oci:DIR[:TAG]                an OCI image layout directory
//   oci-archive:FILE[:TAG]       a tar of an OCI image layout
//   docker-archive:FILE[:REF]    a `docker save` archive (REF or @N to pick one)
//   NAME / ID                    an image in the local store
// As in containers/image, the path ends at the first ':'.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/image/store.hpp"

namespace bock::image {

struct Location {
    enum class Kind { local, docker, oci, oci_archive, docker_archive };
    Kind kind = Kind::local;
    std::string path;  // DIR or FILE ("-" for stdin/stdout with the archives)
    // local: what the user typed; docker: the reference; oci*: the tag
    // (org.opencontainers.image.ref.name); docker-archive: a reference or "@N".
    std::string ref;

    // Parses "transport:rest"; a string without a known transport prefix is
    // a local name. An unknown "xyz:" prefix that is not a valid reference
    // is refused naming the transports.
    static Result<Location> parse(std::string_view s);
    std::string str() const;
    bool is_archive() const { return kind == Kind::oci_archive || kind == Kind::docker_archive; }
};

std::string_view transport_name(Location::Kind k);

// Reads the image(s) at `src` (oci, oci-archive or docker-archive) into
// the store, under its writer lock; the index is updated last, and a
// failure leaves the store as it was. `name` names the stored image (only
// for a single image). Without it, an image is named from its annotation
// (a full reference), its RepoTags, or localhost/<dir or file name>:<tag>.
Result<std::vector<ImageRecord>> read_into_store(Store& store, const Location& src,
                                                 std::optional<std::string> name = {});

// Writes stored images to an oci, oci-archive or docker-archive location.
// Files are written to a temporary name and renamed, so a failure leaves
// nothing behind; an OCI layout directory gets its blobs first and its
// index.json replaced atomically last (other images in it are kept, an
// entry with the same tag is replaced). OCI forms copy blobs unchanged
// (the manifest digest is kept); docker-archive layers are uncompressed
// tars (diff_ids kept). `tag` names the image in the destination:
// default: loc.ref, else the image's name.
Result<void> write_from_store(const Store& store, const std::vector<ImageRecord>& images, const Location& dst);

// The registry side of `bock copy`, given by the front end (the image
// library's pull/push): empty functions make docker:// an error saying it
// is not wired.
struct CopyHooks {
    // Pulls `ref` into the store and returns the stored image.
    std::function<Result<ImageRecord>(const Reference& ref)> pull;
    // Pushes a stored image to `dest`.
    std::function<Result<void>(const ImageRecord& image, const Reference& dest)> push;
};

// What `bock copy` does: local -> oci*/docker-archive/local (a tag),
// oci*/docker-archive -> local, and between two non-local ones (through the
// store's tmp/, without storing the image). With docker:// on a side, the
// image goes through the store: pulled (hooks.pull) then written, or read
// into the store then pushed (hooks.push). Returns the source manifest's
// digest.
Result<std::string> copy_image(Store& store, const Location& src, const Location& dst, const CopyHooks& hooks = {});

// A single-layer image from a root filesystem tarball (plain, gzip, zstd,
// xz; "-" for stdin), like `podman import`: the layer is stored as an
// uncompressed tar, the config is minimal (os, architecture, created,
// rootfs) plus `changes`.
struct ImportOptions {
    // Dockerfile-like instructions: "CMD ...", "ENTRYPOINT ...", "ENV K=V",
    // "WORKDIR /d", "USER u", "LABEL k=v" (CMD/ENTRYPOINT in JSON or shell form).
    std::vector<std::string> changes;
    std::string message;  // history comment
};
Result<ImageRecord> import_rootfs(Store& store, const std::string& tarball, const std::string& name,
                                  const ImportOptions& opts = {});

}  // namespace bock::image
