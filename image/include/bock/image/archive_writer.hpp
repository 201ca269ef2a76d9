// Building image documents from layer tars and writing image archives from
// files on disk (bock-mkimage, test fixtures). Stored images are written by
// the transports (transport.hpp). Files are written to a temporary name and
// renamed when complete.
#pragma once

#include <string>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/image/digest.hpp"
#include "bock/image/oci.hpp"

namespace bock::image {

// A blob to put in an archive: read from `path`, or `data` when path is empty.
struct ArchiveBlob {
    Digest digest;
    std::string path;
    std::string data;
};

// The documents of an image made of uncompressed layer tars.
struct ImageParts {
    ImageConfig config;  // with diff_ids filled in
    std::string config_json;
    Digest config_digest;
    Manifest manifest;  // OCI media types
    std::string manifest_json;
    Digest manifest_digest;
    std::vector<ArchiveBlob> layers;  // the tars (path), bottom to top
};

// Hashes the layer tars (the diff_id is the blob digest: uncompressed) and
// builds the config and the manifest.
Result<ImageParts> make_image_parts(ImageConfig config, const std::vector<std::string>& layer_tar_paths);

struct OciArchiveImage {
    std::string name;     // org.opencontainers.image.ref.name
    Descriptor manifest;  // the manifest's descriptor
};

// Writes an OCI archive (oci-layout, index.json, blobs/sha256/<hex>) to a
// file, or to stdout for "-". Blobs are written once each.
Result<void> write_oci_archive(const std::string& out, const std::vector<OciArchiveImage>& images,
                               const std::vector<ArchiveBlob>& blobs);

// Writes a `docker save` archive: manifest.json, <config-hex>.json and
// <n>/layer.tar per layer.
Result<void> write_docker_archive(const std::string& out, const std::vector<std::string>& repo_tags,
                                  const ImageParts& parts);

}  // namespace bock::image
