// `bock inspect IMAGE`: an image described as `podman image inspect` does.
#pragma once

#include <nlohmann/json.hpp>

#include "bock/common/error.hpp"
#include "bock/image/store.hpp"

namespace bock::image {

// One element of podman's inspect array: Id, Digest, RepoTags, RepoDigests,
// Created, Config, Architecture, Os, Size, RootFS {Type, Layers}, Labels,
// Annotations, ManifestType, User, History, NamesHistory. RepoTags lists
// every name of the image in the store.
Result<nlohmann::json> inspect_image(const Store& store, const ImageRecord& rec);

// The names of the image `rec` (every record with its manifest).
Result<std::vector<std::string>> image_names(const Store& store, const ImageRecord& rec);

}  // namespace bock::image
