// Private: a directory tree read as tar entries, in a deterministic order
// (each directory's names sorted bytewise, a directory before its
// contents), and written into a libarchive tar writer. Used for a
// container's overlay upper directory (whiteouts and opaque directories
// turned into their OCI forms) and for `bock export` of a mounted root.
#pragma once

#include <sys/stat.h>

#include <archive.h>

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <optional>
#include <string>
#include <vector>

#include "bock/common/error.hpp"

namespace bock::image::detail {

struct TreeEntry {
    std::string path;   // relative to the root, no leading "/"
    struct stat st{};   // uid, gid and permission bits already corrected (override_stat)
    bool whiteout = false;  // an overlay whiteout: written as ".wh.NAME"
    bool opaque = false;    // an opaque directory: followed by "DIR/.wh..wh..opq"
    std::string hardlink;   // set: a further name of an earlier entry (its path)
    std::string symlink;    // a symlink's target
};

// The part of a full copy of an image (the vfs backend's root) that
// differs from the image: the paths to write (changed or added, and the
// directories above them) and, per directory, the names the image has
// there and the copy has not (written as whiteouts).
struct CopyChanges {
    std::set<std::string> keep;
    std::map<std::string, std::vector<std::string>> deleted;  // "" is the root
};

// Compares a copy with the image's layer directories (bottom first, as
// Store::layer_dirs gives them): type, permission bits, owner, and for
// non-directories size, mtime, link count, device number and symlink
// target. Contents are not read: a change that keeps the size and mtime
// of a file goes unseen, as in containers/storage's naive diff.
Result<CopyChanges> compare_copy(const std::string& copy, const std::vector<std::string>& lowers);

struct WalkOptions {
    bool overlay_upper = false;  // read overlay whiteouts and opaque markers
    bool single_id = false;      // owners from user.containers.override_stat when present
    const CopyChanges* only = nullptr;  // set: walk only these paths, with these whiteouts
};

// Calls `fn` for every entry below `root` (not the root itself), with the
// directory fd holding it and its name there (to open a file's content).
using TreeVisitor = std::function<Result<void>(const TreeEntry& e, int dirfd, const char* name)>;
Result<void> walk_tree(const std::string& root, const WalkOptions& opts, const TreeVisitor& fn);

struct TarEntryOptions {
    std::optional<int64_t> clamp_mtime;  // mtimes later than this become it
};

// Writes one entry (header and content) to a pax tar writer: a whiteout as
// an empty ".wh.NAME" file, an opaque directory as the directory plus
// ".wh..wh..opq". No atime/ctime, no user or group names.
Result<void> write_tar_entry(struct archive* a, const TreeEntry& e, int dirfd, const char* name,
                             const TarEntryOptions& opts);

}  // namespace bock::image::detail
