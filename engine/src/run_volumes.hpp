// What `bock run`/`bock create` mount (engine/src/run_volumes.cpp): -v,
// --mount, --tmpfs, --volumes-from and the image's VOLUME entries.
#pragma once

#include <string>

#include "bock/common/error.hpp"
#include "bock/engine/containers.hpp"
#include "bock/engine/context.hpp"
#include "bock/engine/run.hpp"
#include "bock/image/store.hpp"
#include "bock/runtime/spec.hpp"

namespace bock::engine {

// Parses and checks the flags, creates the named volumes that are missing
// and the anonymous ones, and saves `record` (its `mounts` filled) while
// holding the volume lock, so that `bock volume rm` always sees the
// container once its volume exists. Nothing is mounted yet.
Result<void> claim_volumes(const Context& ctx, const RunRequest& req, const image::ImageRecord& img,
                           ContainerRecord& record);

// With the container's root mounted at `rootfs`: copies the image's files
// into volumes used for the first time (owners and modes kept), chowns the
// `:U` sources to the container's user, and adds the mounts to the spec.
// Destinations are resolved inside the root (openat2 RESOLVE_IN_ROOT) here
// and by the runtime, so a symlink in the image cannot send them outside.
Result<void> apply_volumes(const Context& ctx, const ContainerRecord& record, const std::string& rootfs,
                           const std::string& storage_dir, runtime::Spec& spec);

}  // namespace bock::engine
