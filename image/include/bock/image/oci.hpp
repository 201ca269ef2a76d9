// The OCI image-spec documents Bock reads and writes (nlohmann/json). Docker
// schema2 media types are accepted wherever OCI ones are.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bock/common/error.hpp"
#include "bock/image/digest.hpp"

namespace bock::image {

namespace media {
inline constexpr const char* oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* oci_config = "application/vnd.oci.image.config.v1+json";
inline constexpr const char* oci_layer_tar = "application/vnd.oci.image.layer.v1.tar";
inline constexpr const char* oci_layer_gzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr const char* oci_layer_zstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr const char* docker_manifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr const char* docker_list = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr const char* docker_config = "application/vnd.docker.container.image.v1+json";
inline constexpr const char* docker_layer = "application/vnd.docker.image.rootfs.diff.tar.gzip";
}  // namespace media

struct Descriptor {
    std::string media_type;
    Digest digest;
    int64_t size = 0;
    std::map<std::string, std::string> annotations;
    std::optional<nlohmann::json> platform;
};

struct Manifest {
    int schema_version = 2;
    std::string media_type;
    Descriptor config;
    std::vector<Descriptor> layers;
};

// The parts of the image config a container needs.
struct ImageConfig {
    std::string architecture;
    std::string os;
    std::string created;
    std::vector<std::string> env;
    std::vector<std::string> entrypoint;
    std::vector<std::string> cmd;
    std::string working_dir;
    std::string user;
    std::map<std::string, std::string> labels;
    std::vector<std::string> exposed_ports;  // ExposedPorts' keys: "80/tcp", "53/udp", "8080"
    std::vector<Digest> diff_ids;
};

Result<Descriptor> parse_descriptor(const nlohmann::json& j);
nlohmann::json to_json(const Descriptor& d);
Result<Manifest> parse_manifest(std::string_view text);
std::string serialize(const Manifest& m);
Result<ImageConfig> parse_image_config(std::string_view text);
// Writes a complete config document (rootfs.diff_ids, config.*, history).
std::string serialize(const ImageConfig& c);

}  // namespace bock::image
