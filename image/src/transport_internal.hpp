// Private: an image read from somewhere (the store, an OCI layout, a
// `docker save` archive), as the transport writers consume it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/common/fd.hpp"
#include "bock/image/oci.hpp"
#include "bock/image/transport.hpp"
#include "store_internal.hpp"

namespace bock::image::detail {

// The OCI layout annotation naming an image in index.json.
inline constexpr const char* kRefNameAnnotation = "org.opencontainers.image.ref.name";

struct SourceImage {
    std::vector<std::string> names;  // full references (RepoTags, the ref.name annotation); may be empty
    std::string tag;                 // the raw ref.name annotation of an OCI source, if any
    std::string manifest_json;
    Descriptor manifest_desc;  // media type, digest, size
    Manifest manifest;
    std::string config_json;
    ImageConfig config;
    // Opens a blob (config or layer) of the image for reading.
    std::function<Result<Fd>(const Digest&)> open_blob;
};

Result<SourceImage> source_from_store(const StorePaths& p, const ImageRecord& rec);

// Calls `sink` with the decompressed bytes (gzip, zstd, xz or none) of the
// stream read from `fd`.
Result<void> decompress_fd(int fd, const std::string& shown,
                           const std::function<Result<void>(const char*, size_t)>& sink);

// Puts the image's blobs into the store (each verified against its
// descriptor) and commits it under `name`; the caller holds the session
// and updates the index.
Result<ImageRecord> store_source(const StorePaths& p, const SourceImage& s, const std::string& name,
                                 const StoreOptions& opts);

// `tag` is the destination's name for the image: the ref.name annotation
// (OCI forms) or a RepoTags entry (docker-archive); may be empty.
struct NamedSource {
    std::string tag;
    const SourceImage* image;
};

Result<void> write_oci_dir(const std::string& dir, const std::vector<NamedSource>& images);
Result<void> write_oci_archive_file(const std::string& file, const std::vector<NamedSource>& images);
Result<void> write_docker_archive_file(const std::string& file, const std::vector<NamedSource>& images);

// Reads the images of an unpacked OCI layout or `docker save` archive (root
// fd; files opened inside it only). `want` selects: the ref.name annotation
// (OCI), a RepoTags reference or "@N" (docker); empty: every image.
Result<std::vector<SourceImage>> oci_sources(int root, const std::string& shown, const std::string& want);
Result<std::vector<SourceImage>> docker_sources(int root, const std::string& shown, const std::string& want);

// Unpacks an image archive (file or "-") into `dir` (store_load.cpp).
Result<void> unpack(const std::string& path, const std::string& dir);
bool exists_in(int root, const std::string& rel);
Result<Fd> open_in(int root, const std::string& rel, const std::string& shown);
Result<std::string> read_in(int root, const std::string& rel, const std::string& shown);

}  // namespace bock::image::detail
