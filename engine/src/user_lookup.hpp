// Resolving `-u NAME[:GROUP]` and the image's User against the container's
// own /etc/passwd and /etc/group, read inside the root filesystem
// (openat2 RESOLVE_IN_ROOT: a symlink there cannot point at the host's files).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bock/common/error.hpp"

namespace bock::engine {

struct ResolvedUser {
    uint32_t uid = 0;
    uint32_t gid = 0;
    std::vector<uint32_t> additional_gids;
    std::string home;  // from passwd; "/" when unknown
};

Result<ResolvedUser> resolve_user(int rootfs_fd, const std::string& spec);

// mkdir -p of `path` inside the root filesystem open as rootfs_fd.
Result<void> mkdir_in_root(int rootfs_fd, const std::string& path);

}  // namespace bock::engine
