// `bock cp`: files between a container and the host, either way, on a
// running or a stopped container (engine/src/cp.cpp, copy_tree.cpp).
// Paths inside the container are resolved inside its root (a symlink that
// points outside resolves inside); owners are kept with `archive`, else the
// copies belong to the container's root (copy in) or the caller (copy out).
#pragma once

#include <string>

#include "bock/common/error.hpp"
#include "bock/engine/context.hpp"

namespace bock::engine {

struct CopyRequest {
    std::string src;   // CONTAINER:PATH, a host path, or "-" (a tar on stdin)
    std::string dest;  // CONTAINER:PATH, a host path, or "-" (a tar to stdout)
    bool archive = false;  // -a: keep owners (mapped through the container's mapping)
    bool follow = false;   // -L: follow a symlink named as the source
};

// One side of a copy: a container (its name or id) and a path in it, or a
// host path (container empty). Docker's rule: "NAME:PATH" is a container
// path when the colon comes before any '/'; a local path with a colon is
// written "./a:b".
struct CopyEndpoint {
    std::string container;
    std::string path;
};
CopyEndpoint parse_copy_endpoint(const std::string& arg);

Result<void> copy_files(Context& ctx, const CopyRequest& req);

}  // namespace bock::engine
