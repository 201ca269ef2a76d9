// The local driver's volumes in the store (volumes.hpp has the layout), for
// volumes.cpp (the commands) and run_volumes.cpp (what `bock run` mounts).
#pragma once

#include <string>

#include "bock/common/error.hpp"
#include "bock/common/lock.hpp"
#include "bock/engine/context.hpp"
#include "bock/engine/volumes.hpp"

namespace bock::engine {

std::string volumes_root(const Context& ctx);                       // <store>/volumes
std::string volume_dir(const Context& ctx, const std::string& name);  // <store>/volumes/<name>

// The volume lock, held exclusively by every change (create, first-use
// copy, rm, prune, a container claiming volumes). Once taken, `.tmp/` is
// emptied: anything there is debris of a killed writer.
Result<FileLock> lock_volumes(const Context& ctx);

// With the lock held: the record of `name` (ENOENT when there is none).
Result<VolumeRecord> load_volume(const Context& ctx, const std::string& name);
// With the lock held: writes the record of an existing volume atomically.
Result<void> save_volume(const Context& ctx, const VolumeRecord& rec);
// With the lock held: a new volume, built in .tmp/ and renamed into place
// (a volume directory that exists is complete). An existing name is an
// error (EEXIST).
Result<VolumeRecord> create_volume_locked(const Context& ctx, VolumeRecord rec);
// Parses and checks --opt KEY=VALUE of the local driver.
Result<std::map<std::string, std::string>> parse_volume_opts(const std::vector<std::string>& opts);

}  // namespace bock::engine
