// COPY and ADD's file work (copy.cpp), all through directory fds: sources
// are resolved inside their root (the build context or a stage's image)
// and destinations inside the step's root with openat2 RESOLVE_IN_ROOT, so
// a symlink in either can never reach the host's files.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bock/common/error.hpp"
#include "ignore.hpp"

namespace bock::builder {

struct CopyOptions {
    std::optional<std::pair<uint32_t, uint32_t>> owner;  // --chown; none: 0:0 (or the source's, below)
    bool keep_owner = false;                             // COPY --from without --chown: the source's owners
    std::optional<mode_t> mode;                          // --chmod
    const IgnoreRules* ignore = nullptr;                 // context sources only
    bool extract_archives = false;                       // ADD: local tar archives are unpacked
};

// The sources named by `patterns` (globs allowed) relative to the root,
// without a leading /; "" is the root itself. Refused when one matches
// nothing, or leaves the root ("..").
Result<std::vector<std::string>> expand_sources(int root_fd, const std::vector<std::string>& patterns,
                                                const IgnoreRules* ignore);

// A digest of the sources' names, types, modes, link targets and contents
// (what the cache key of COPY/ADD needs).
Result<std::string> hash_sources(int root_fd, const std::vector<std::string>& sources, const IgnoreRules* ignore);

// Copies the sources to `dest` (absolute) in the root `dst_root`, with
// Docker's rules: a directory's contents go into dest, several sources
// need dest to end in /, a file onto dest/ keeps its name.
Result<void> copy_sources(int src_root, const std::vector<std::string>& sources, int dst_root, const std::string& dest,
                          const CopyOptions& opts);

// WORKDIR: mkdir -p inside the root (new directories 0755, root's).
Result<void> mkdir_in_root(int dst_root, const std::string& path);

// COPY <<EOF dest: one file with the given content.
Result<void> write_file_in_root(int dst_root, const std::string& dest, const std::string& content, const CopyOptions& opts);

}  // namespace bock::builder
