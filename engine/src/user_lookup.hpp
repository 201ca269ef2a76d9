// Resolving `-u NAME[:GROUP]` and the image's User against the container's
// own /etc/passwd and /etc/group, read inside the root filesystem
// (openat2 RESOLVE_IN_ROOT: a symlink there cannot point at the host's files).
#pragma once

#include <cstdint>
#include <map>
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

// id -> name from the root filesystem's /etc/passwd or /etc/group (`db`);
// the first name of an id wins. Empty when the file is missing.
std::map<uint32_t, std::string> id_names(int rootfs_fd, const char* db);

// mkdir -p of `path` inside the root filesystem open as rootfs_fd.
Result<void> mkdir_in_root(int rootfs_fd, const std::string& path);

}  // namespace bock::engine
