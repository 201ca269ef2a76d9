// Copying one entry (a file, a symlink, a special file or a whole
// directory tree) from a directory fd to another, never following a
// symlink inside the copied tree: every step is an *at call on a
// directory fd that was opened with O_NOFOLLOW (for `bock cp`).
#pragma once

#include <string>

#include "bock/common/error.hpp"

namespace bock::engine {

struct CopyTreeOptions {
    bool keep_owners = false;  // lchown the copies to the source's uid/gid
};

// Copies `sname` in `sdir` to `dname` in `ddir`. A directory merges into an
// existing directory of that name; any other existing entry is replaced.
Result<void> copy_entry(int sdir, const std::string& sname, int ddir, const std::string& dname,
                        const CopyTreeOptions& opts);
// Copies the entries of directory `sdir` into directory `ddir`.
Result<void> copy_children(int sdir, int ddir, const CopyTreeOptions& opts);

}  // namespace bock::engine
