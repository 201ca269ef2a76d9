// Command line of bock-fuse-overlay (docs/fuse-overlay.md):
//   bock-fuse-overlay [-d] -o lowerdir=TOP:...:BOTTOM[,upperdir=U,workdir=W]
//                     [,uidmapping=C:H:N[:C:H:N...]][,gidmapping=...]
//                     [,ready_fd=N][,timeout=SECONDS] MOUNTPOINT
// lowerdir is listed top-first, as kernel overlayfs and fuse-overlayfs do.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bock/common/error.hpp"

namespace bock::fuseov {

// One range of an id mapping: ids [outer, outer+count) on the layer and
// upper directories show as [inner, inner+count) in the mount. As
// fuse-overlayfs reads uidmapping=C:H:N: outer is C (stored), inner is H
// (shown).
struct IdRange {
    uint32_t inner = 0;
    uint32_t outer = 0;
    uint32_t count = 0;
};

// uidmapping/gidmapping. Empty: identity. Ids outside every range show as
// the overflow id (65534) and cannot be given to a file.
class IdMap {
public:
    static constexpr uint32_t overflow = 65534;
    static Result<IdMap> parse(std::string_view text);  // "C:H:N[:C:H:N...]"
    bool identity() const { return ranges_.empty(); }
    uint32_t to_inner(uint32_t outer) const;           // for stat: overflow if unmapped
    // For chown and new files: false if the id shown has no stored id.
    bool to_outer(uint32_t inner, uint32_t* outer) const;
    const std::vector<IdRange>& ranges() const { return ranges_; }

private:
    std::vector<IdRange> ranges_;
};

struct Options {
    std::vector<std::string> lowers;  // top-first
    std::string upper;                // empty: a read-only mount
    std::string work;
    IdMap uids;
    IdMap gids;
    int ready_fd = -1;
    double timeout = 1.0;             // seconds the kernel may cache entries and attributes
    bool debug = false;
    std::string mountpoint;
};

// Parses argv (without argv[0]).
Result<Options> parse_options(const std::vector<std::string>& args);

}  // namespace bock::fuseov
