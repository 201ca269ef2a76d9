// Cleaning up and accounting (issue 18): `bock rename`, `container prune`,
// `system df`, `system prune` (engine/src/system.cpp, disk_usage.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/engine/context.hpp"

namespace bock::engine {

// Gives a container a new name: refused while another container has it, or
// when the name is not [a-zA-Z0-9][a-zA-Z0-9_.-]*. Returns the id.
Result<std::string> rename_container(const Context& ctx, const std::string& key, const std::string& new_name);

// Removes every container that is not running (created earlier than
// `until`, unix seconds, when given); returns their ids.
Result<std::vector<std::string>> prune_containers(const Context& ctx, std::optional<int64_t> until);

// Parses `until=` values: unix seconds, RFC 3339 ("2026-12-06T21:00:00Z")
// or a duration before now ("10m", "2h", "1h30m", "45s").
Result<int64_t> parse_time_arg(const std::string& s);

// Bytes a tree takes on disk, as `du -s -B1` counts them: every inode's
// blocks, a hardlinked inode once, mounts not crossed.
Result<uint64_t> disk_usage(const std::string& path);

struct DfRow {
    std::string type;  // Images | Containers | Local Volumes
    uint64_t total = 0, active = 0;
    uint64_t size = 0, reclaimable = 0;
};
struct DfImage {
    std::string name, id;
    uint64_t size = 0;     // its layer directories
    uint64_t shared = 0;   // of which also used by another image
    uint64_t containers = 0;
    int64_t created = 0;
};
struct DfContainer {
    std::string id, name, image, status;
    uint64_t size = 0;  // its upper directory and record
    int64_t created = 0;
};
struct DfVolume {
    std::string name;
    uint64_t size = 0;
    bool used = false;  // some container mounts it
};
struct SystemDf {
    std::vector<DfRow> rows;
    std::vector<DfImage> images;
    std::vector<DfContainer> containers;
    std::vector<DfVolume> volumes;
};
// Images: everything in the store but containers/ and volumes/ (layers,
// blobs, index); containers: containers/; volumes: volumes/. Together
// they are `du` of the store.
Result<SystemDf> system_df(Context& ctx);

struct PruneReport {
    std::vector<std::string> containers, images;
    uint64_t reclaimed = 0;  // bytes, from du of the store before and after
};
// Stopped containers, then dangling images (all: every image no container
// uses). Running containers and their images are never touched.
Result<PruneReport> system_prune(Context& ctx, bool all);

}  // namespace bock::engine
