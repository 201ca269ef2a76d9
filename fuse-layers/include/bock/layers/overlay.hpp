// Layered root filesystems. Today: kernel overlayfs, mounted in the rootless
// session's user namespace with "userxattr". The layers issue adds
// fuse-overlayfs, Bock's own libfuse3 overlay (a separate executable) and a
// copy fallback behind this same interface.
#pragma once

#include <string>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/common/mount.hpp"

namespace bock::layers {

struct OverlaySpec {
    std::vector<std::string> lowers;  // bottom to top (image order)
    std::string upper;                // private, writable, per container
    std::string work;                 // same filesystem as upper
    std::string target;               // mount point
    bool userxattr = false;           // rootless: user.overlay.* xattrs
};

// Mounts the overlay (new mount API with "lowerdir+" when the kernel has it,
// else mount(2) with a lowerdir= string) and returns the mount, unmounted
// when the ScopedMount goes away. An image with no layers gets an empty
// lower directory.
Result<ScopedMount> mount_overlay(const OverlaySpec& spec);

// Tries a throw-away overlay mount under `scratch_dir` (for bock doctor).
Result<void> probe_overlay(const std::string& scratch_dir, bool userxattr);

}  // namespace bock::layers
