// `bock version` and `bock info`: what this Bock is, and what it does on
// this machine (podman info's role). Later issues add their parts (network
// helper, storage backends, monitor).
#pragma once

#include <nlohmann/json.hpp>

#include "bock/common/error.hpp"
#include "bock/engine/context.hpp"

namespace bock::engine {

// {"Client": {"Version", "Commit", "OsArch", "Libraries": {...}}}
nlohmann::json version_info();
// host (kernel, rootless, id mappings, cgroups and which limits hold),
// store (paths, images, containers), defaults (storage driver, network),
// helpers (where they are looked up).
Result<nlohmann::ordered_json> system_info(Context& ctx);

}  // namespace bock::engine
