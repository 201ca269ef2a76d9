// The backend chain behind mount_layers: kernel overlayfs, fuse-overlayfs,
// bock-fuse-overlay, then a copy, each refusal kept for the report; a forced
// driver is tried alone. See docs/fuse-overlay.md.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "backends.hpp"
#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/subprocess.hpp"
#include "bock/common/sys.hpp"

namespace bock::layers {

namespace {

constexpr const char* kDrivers = "overlay, fuse-overlayfs, bock-fuse, vfs";

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
    std::string out;
    for (const auto& p : parts) {
        if (!out.empty()) out += sep;
        out += p;
    }
    return out;
}

bool executable(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::string human_bytes(uint64_t n) {
    if (n >= (1ull << 30)) return fmt::format("{:.1f} GiB", double(n) / double(1ull << 30));
    if (n >= (1ull << 20)) return fmt::format("{:.1f} MiB", double(n) / double(1ull << 20));
    return fmt::format("{} KiB", (n + 1023) / 1024);
}

Result<void> try_overlay(const LayersSpec& spec, MountedRoot& root) {
#ifdef BOCK_TEST_HOOKS
    if (const char* v = std::getenv("BOCK_TEST_REFUSE_OVERLAY"); v && *v)
        return make_error("refused by the test hook BOCK_TEST_REFUSE_OVERLAY");
#endif
    if (!spec.uidmapping.empty() || !spec.gidmapping.empty())
        return make_error("an id mapping was asked for, and kernel overlayfs cannot shift ids");
    OverlaySpec ov{spec.lowers, spec.upper, spec.work, spec.target, spec.userxattr};
    BackendAccess::mount(root) = BOCK_TRY(mount_overlay(ov));
    return ok();
}

Result<void> try_fuse_overlayfs(const LayersSpec& spec, MountedRoot& root) {
    auto prog = find_program("fuse-overlayfs");
    if (!prog)
        return make_error("`fuse-overlayfs` is not in PATH").with_hint("apt-get install fuse-overlayfs");
    return mount_fuse(spec, Backend::fuse_overlayfs, *prog, root);
}

Result<void> try_bock_fuse(const LayersSpec& spec, MountedRoot& root) {
    std::string dir = spec.helper_dir.empty() ? default_helper_dir() : spec.helper_dir;
    std::string prog = fs::join(dir, "bock-fuse-overlay");
    if (!executable(prog))
        return make_error("helper `{}` is missing", prog).with_hint("set BOCK_HELPER_DIR to the directory holding bock-fuse-overlay");
    return mount_fuse(spec, Backend::bock_fuse, prog, root);
}

// The copy goes to the upper directory (per container, removed with it),
// bind-mounted on the target. A marker in the work directory says the
// copy is complete, so a second mount of the same container reuses it.
Result<uint64_t> try_vfs(const LayersSpec& spec, MountedRoot& root) {
    std::string marker = fs::join(spec.work, "bock-vfs-complete");
    uint64_t bytes = 0;
    if (!fs::exists(marker)) {
        auto ids = BOCK_TRY(parse_vfs_ids(spec.uidmapping, spec.gidmapping));
        bytes = BOCK_TRY_CTX(copy_layers(spec.lowers, spec.upper, ids), "copy the layers (vfs)");
        BOCK_TRY(fs::write_file_atomic(marker, std::to_string(bytes) + "\n"));
    } else {
        bytes = std::strtoull(BOCK_TRY(fs::read_file(marker)).c_str(), nullptr, 10);
    }
    BOCK_TRY_CTX(sys::mount(spec.upper, spec.target, nullptr, MS_BIND), "vfs: bind the copy on the target");
    BackendAccess::mount(root) = ScopedMount(spec.target);
    return bytes;
}

}  // namespace

std::string_view backend_name(Backend b) {
    switch (b) {
        case Backend::overlay: return "overlay";
        case Backend::fuse_overlayfs: return "fuse-overlayfs";
        case Backend::bock_fuse: return "bock-fuse";
        case Backend::vfs: return "vfs";
    }
    return "?";
}

Result<Backend> parse_backend(std::string_view name) {
    for (Backend b : {Backend::overlay, Backend::fuse_overlayfs, Backend::bock_fuse, Backend::vfs})
        if (name == backend_name(b)) return b;
    return make_error("unknown storage driver `{}`", name).with_hint(fmt::format("storage drivers: {}", kDrivers));
}

std::string default_helper_dir() {
    if (const char* d = std::getenv("BOCK_HELPER_DIR"); d && *d) return d;
    auto exe = fs::readlink("/proc/self/exe");
    if (!exe) return "/usr/libexec/bock";
    // Never assigned from a one-character literal: GCC 12 at -O3 reports a
    // false -Wrestrict there (GCC bug 105651).
    auto slash = exe->rfind('/');
    std::string dir = slash == 0 || slash == std::string::npos ? std::string(1, '/') : exe->substr(0, slash);
    if (executable(fs::join(dir, "bock-fuse-overlay"))) return dir;
    std::string libexec = fs::join(dir, "../libexec/bock");
    if (executable(fs::join(libexec, "bock-fuse-overlay"))) return libexec;
    return dir;
}

MountedRoot& MountedRoot::operator=(MountedRoot&& o) noexcept {
    if (this != &o) {
        (void)unmount();
        backend_ = o.backend_;
        why_ = std::move(o.why_);
        target_ = std::move(o.target_);
        mount_ = std::move(o.mount_);
        helper_ = std::move(o.helper_);
        pid_file_ = std::move(o.pid_file_);
        active_ = std::exchange(o.active_, false);
    }
    return *this;
}

MountedRoot::~MountedRoot() {
    if (auto r = unmount(); !r) log::warn("{}", r.error().to_string());
}

Result<void> MountedRoot::unmount() {
    if (!active_) return ok();
    active_ = false;
    if (helper_.valid()) return stop_fuse(target_, helper_, pid_file_);
    if (mount_.active()) BOCK_TRY_CTX(sys::umount(mount_.release(), MNT_DETACH), fmt::format("unmount the {} root", backend_name(backend_)));
    return ok();
}

void MountedRoot::release() {
    active_ = false;
    (void)mount_.release();
    (void)helper_.detach();
}

Result<MountedRoot> mount_layers(const LayersSpec& spec) {
    if (spec.target.empty() || spec.upper.empty() || spec.work.empty())
        return make_error("mount layers: a target, an upper and a work directory are needed");
    std::string forced_by;
    std::string driver = spec.driver;
    if (!driver.empty()) {
        forced_by = "--storage-driver";
    } else if (const char* env = std::getenv("BOCK_STORAGE_DRIVER"); env && *env) {
        driver = env;
        forced_by = "BOCK_STORAGE_DRIVER";
    }
    std::vector<Backend> order{Backend::overlay, Backend::fuse_overlayfs, Backend::bock_fuse, Backend::vfs};
    if (spec.owners_in_xattrs) order = {Backend::fuse_overlayfs, Backend::bock_fuse, Backend::overlay, Backend::vfs};
    if (!driver.empty()) order = {BOCK_TRY_CTX(parse_backend(driver), forced_by)};

    if (auto r = recover_stale_mount(spec.target); !r) log::debug("mount layers: {}", r.error().to_string());

    MountedRoot root;
    root.target_ = spec.target;
    std::vector<std::string> refusals;
    for (Backend b : order) {
        Result<void> r = ok();
        uint64_t copied = 0;
        switch (b) {
            case Backend::overlay: r = try_overlay(spec, root); break;
            case Backend::fuse_overlayfs: r = try_fuse_overlayfs(spec, root); break;
            case Backend::bock_fuse: r = try_bock_fuse(spec, root); break;
            case Backend::vfs: {
                auto v = try_vfs(spec, root);
                if (v) copied = *v;
                else r = std::move(v).error();
                break;
            }
        }
        if (!r) {
            if (!forced_by.empty())
                return std::move(r.error().wrap(fmt::format("storage driver {} (forced by {})", backend_name(b), forced_by)));
            refusals.push_back(fmt::format("{}: {}", backend_name(b), r.error().to_string()));
            log::debug("mount layers: {}", refusals.back());
            continue;
        }
        root.backend_ = b;
        root.active_ = true;
        if (!forced_by.empty()) root.why_ = "forced by " + forced_by;
        else if (refusals.empty()) root.why_ = "first in the chain";
        else root.why_ = "earlier backends refused: " + join(refusals, "; ");
        if (b == Backend::vfs) {
            std::string cost = fmt::format("the layers were copied into `{}`: {} on disk for this container alone, "
                                           "where an overlay shares the layers",
                                           spec.upper, human_bytes(copied));
            root.why_ += "; " + cost;
            log::warn("storage driver vfs: {} ({})", cost,
                      forced_by.empty() ? "every other backend failed: " + join(refusals, "; ") : "forced by " + forced_by);
        }
        return root;
    }
    return make_error("mount layers on `{}`: every backend failed: {}", spec.target, join(refusals, "; "));
}

}  // namespace bock::layers
