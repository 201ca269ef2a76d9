// `bock run --pull=missing|always|never`: makes sure the image is in the
// store before the container is created.
#pragma once

#include <string>

#include "bock/common/error.hpp"
#include "bock/frontend/context.hpp"

namespace bock::cli {

enum class PullPolicy { missing, always, never };

Result<PullPolicy> parse_pull_policy(const std::string& s);

// missing: pulls `typed` when no local image answers to it (a qualified
// name from its registry; a short name from docker.io, see pull_sources);
// always: pulls it every time; never: does nothing (run then fails with
// "not found in the local store" when it is absent).
Result<void> ensure_image(frontend::Context& ctx, const std::string& typed, PullPolicy policy);

}  // namespace bock::cli
