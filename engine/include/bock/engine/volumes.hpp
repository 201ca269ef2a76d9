// Volumes (docs/volumes.md): `bock volume create|ls|inspect|rm|prune`, and
// what `bock run`/`bock create` mount (-v, --mount, --tmpfs,
// --volumes-from, the image's VOLUME entries).
//
// The local driver keeps each volume in the store:
//   <store>/volumes/<name>/volume.json   its record (VolumeRecord)
//   <store>/volumes/<name>/_data/        its files (what a container mounts)
//   <store>/volumes/.lock                 flock: every change holds it
//   <store>/volumes/.tmp/                 work in progress, emptied under the lock
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bock/common/error.hpp"
#include "bock/engine/containers.hpp"
#include "bock/engine/context.hpp"

namespace bock::engine {

struct VolumeRecord {
    std::string name;
    std::string driver = "local";
    int64_t created = 0;  // unix seconds
    std::map<std::string, std::string> labels;
    // --opt KEY=VALUE of the local driver: type (tmpfs, none), device, o.
    std::map<std::string, std::string> options;
    bool anonymous = false;     // made for a container (an image's VOLUME, `-v /dst`)
    std::string container;      // the container an anonymous volume was made for
    bool needs_copy_up = true;  // not mounted yet: the first mount copies the image's files in
    std::string mountpoint;     // <store>/volumes/<name>/_data (derived, not stored)

    nlohmann::json to_json() const;  // as stored in volume.json
    // podman's `volume inspect` / `volume ls --format json` object.
    nlohmann::json describe() const;
};

struct VolumeCreateRequest {
    std::string name;                 // empty: a generated (anonymous-looking) name
    std::vector<std::string> opts;    // --opt KEY=VALUE
    std::vector<std::string> labels;  // --label KEY[=VALUE]
};

// A name Docker accepts: [a-zA-Z0-9][a-zA-Z0-9_.-]+.
bool valid_volume_name(const std::string& name);

Result<VolumeRecord> create_volume(const Context& ctx, const VolumeCreateRequest& req);
Result<std::vector<VolumeRecord>> list_volumes(const Context& ctx);
Result<VolumeRecord> find_volume(const Context& ctx, const std::string& name);
// The containers (names, else short ids) whose mounts use the volume.
Result<std::vector<std::string>> volume_users(const Context& ctx, const std::string& name);
// Refused while a container uses it, naming them, unless `force`, which
// removes those containers first (podman's `volume rm -f`).
Result<void> remove_volume(const Context& ctx, const std::string& name, bool force);
// Removes every volume no container uses; returns their names.
Result<std::vector<std::string>> prune_volumes(const Context& ctx);
// The anonymous volumes made for container `id` that no other container
// uses (`bock rm -v`, `--rm`). Failures are warnings.
void remove_anonymous_volumes(const Context& ctx, const std::string& id);

// A container's mounts as Docker's inspect shows them (Type, Name, Source,
// Destination, Driver, Mode, RW, Propagation).
nlohmann::json docker_mounts(const ContainerRecord& rec);

}  // namespace bock::engine
