// Layered root filesystems: the one interface the engine uses to turn an
// image's layer directories plus a container's upper/work directories into
// a mounted root (docs/fuse-overlay.md).
//
//   auto root = BOCK_TRY(layers::mount_layers(spec));   // the chain
//   log::info("storage: {} ({})", layers::backend_name(root.backend()), root.why());
//   ... run the container in root.target() ...
//   BOCK_TRY(root.unmount());   // also done by the destructor
//
// Backends, tried in this order unless one is forced (spec.driver, e.g.
// from --storage-driver, else $BOCK_STORAGE_DRIVER):
//   overlay         kernel overlayfs ("userxattr" in a user namespace);
//   fuse-overlayfs  Debian's program, started and stopped here;
//   bock-fuse       bock-fuse-overlay from the helper directory;
//   vfs             a plain copy of the layers into the upper directory,
//                   last, never silent: a warning says why every other
//                   backend failed and how much disk the copy takes.
// The two FUSE backends leave a pid file next to the mount point
// (TARGET.fuse.pid) so a later command can find a mount whose process died
// and remove it (recover_stale_mount).
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/common/mount.hpp"
#include "bock/common/pid.hpp"

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

enum class Backend { overlay, fuse_overlayfs, bock_fuse, vfs };

// "overlay", "fuse-overlayfs", "bock-fuse", "vfs".
std::string_view backend_name(Backend b);
Result<Backend> parse_backend(std::string_view name);

struct LayersSpec {
    std::vector<std::string> lowers;  // bottom to top (image order)
    std::string upper;                // private, writable, per container
    std::string work;                 // same filesystem as upper
    std::string target;               // mount point
    bool userxattr = false;           // rootless: user.overlay.* xattrs for kernel overlayfs
    // A backend name forced by the engine's --storage-driver flag; empty:
    // $BOCK_STORAGE_DRIVER, else the chain.
    std::string driver;
    // Where bock-fuse-overlay is; empty: default_helper_dir().
    std::string helper_dir;
    // Id shifting, fuse-overlayfs's syntax "CONTAINER:HOST:COUNT[:...]":
    // the container sees file owner HOST as CONTAINER. Kernel overlayfs
    // cannot shift ids: with a mapping the chain starts at fuse-overlayfs.
    std::string uidmapping;
    std::string gidmapping;
    // The layers record owners in user.containers.override_stat (a
    // single-ID mapping): only the FUSE backends show them, so the chain
    // tries them before kernel overlayfs, which would show every file as
    // root's.
    bool owners_in_xattrs = false;
};

// A mounted root. Unmounts when it goes away; for a FUSE backend, unmounts
// and then stops and reaps its process.
class MountedRoot {
public:
    MountedRoot() = default;
    MountedRoot(MountedRoot&& o) noexcept { *this = std::move(o); }
    MountedRoot& operator=(MountedRoot&& o) noexcept;
    ~MountedRoot();

    Backend backend() const { return backend_; }
    // Why this backend: "forced by BOCK_STORAGE_DRIVER", "first in the
    // chain", or each earlier backend's refusal.
    const std::string& why() const { return why_; }
    const std::string& target() const { return target_; }
    pid_t helper_pid() const { return helper_.get(); }  // the FUSE process, or -1
    bool active() const { return active_; }

    Result<void> unmount();
    // Leaves the mount (and FUSE process) running for another owner; the
    // pid file stays for recover_stale_mount.
    void release();

private:
    friend Result<MountedRoot> mount_layers(const LayersSpec& spec);
    friend struct BackendAccess;
    Backend backend_ = Backend::overlay;
    std::string why_;
    std::string target_;
    ScopedMount mount_;       // kernel overlay, vfs bind mount
    Pid helper_;              // FUSE process
    std::string pid_file_;
    bool active_ = false;
};

Result<MountedRoot> mount_layers(const LayersSpec& spec);

// $BOCK_HELPER_DIR, else the running executable's directory, else
// ../libexec/bock/ relative to it: the first that holds bock-fuse-overlay
// (the executable's directory when none does).
std::string default_helper_dir();

// A FUSE mount at `target` whose process is gone (or a process whose
// mount is gone) is cleaned up. Returns true when something was recovered.
Result<bool> recover_stale_mount(const std::string& target);

}  // namespace bock::layers
