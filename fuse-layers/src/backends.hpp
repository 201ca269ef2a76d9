// The backends behind mount_layers (private to fuse-layers).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bock/layers/overlay.hpp"

namespace bock::layers {

// Fills root's private parts (chain.cpp's friend).
struct BackendAccess {
    static ScopedMount& mount(MountedRoot& r) { return r.mount_; }
    static Pid& helper(MountedRoot& r) { return r.helper_; }
    static std::string& pid_file(MountedRoot& r) { return r.pid_file_; }
};

// fuse_backend.cpp: starts `program` (fuse-overlayfs or bock-fuse-overlay)
// on the spec and waits until the mount is live; the root gets the process
// and the pid file TARGET.fuse.pid.
Result<void> mount_fuse(const LayersSpec& spec, Backend which, const std::string& program, MountedRoot& root);
// Unmounts a FUSE mount and stops its process (SIGTERM, then SIGKILL).
Result<void> stop_fuse(const std::string& target, Pid& helper, const std::string& pid_file);
std::string pid_file_for(const std::string& target);
// The filesystem type mounted exactly at `path` ("" when none).
std::string mount_type_at(const std::string& path);

// vfs.cpp: copies the layers (bottom to top, whiteouts and opaque markers
// applied) into `dest`. Returns the bytes the copy takes on disk.
struct VfsIdMap {
    std::vector<uint32_t> uid;  // flattened C:H:N triples; empty: identity
    std::vector<uint32_t> gid;
};
Result<uint64_t> copy_layers(const std::vector<std::string>& lowers, const std::string& dest, const VfsIdMap& ids);
Result<VfsIdMap> parse_vfs_ids(const std::string& uidmapping, const std::string& gidmapping);

}  // namespace bock::layers
