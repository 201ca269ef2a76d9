// Private: the new image's config document for `bock commit`
// (commit_config.cpp): the container's image config as stored (every
// field kept, Docker-only ones too when the format is docker), with the
// -c instructions applied, the new diff_id and a history entry.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "bock/common/error.hpp"
#include "bock/image/commit.hpp"

namespace bock::image::detail {

// Applies one Dockerfile-like instruction to the "config" object of an
// image config: CMD, ENTRYPOINT (JSON or shell form), ENV, LABEL, WORKDIR,
// USER, EXPOSE, VOLUME, STOPSIGNAL.
Result<void> apply_instruction(nlohmann::json& config, const std::string& instruction);

// The new config: `base` with the changes, `diff_id` appended (none: an
// empty_layer history entry), created/author/history set.
Result<nlohmann::json> commit_config(const std::string& base, const std::optional<Digest>& diff_id,
                                     const CommitOptions& opts);

}  // namespace bock::image::detail
