#include "container_dirs.hpp"

#include <sys/mount.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>

#include "bock/common/fs.hpp"
#include "bock/common/sys.hpp"

namespace bock::engine {

ContainerDirs ContainerDirs::for_id(const Context& ctx, const std::string& id) {
    ContainerDirs d;
    d.id = id;
    d.storage = fs::join(ctx.store_root, "containers/" + id);
    d.upper = fs::join(d.storage, "upper");
    d.work = fs::join(d.storage, "work");
    d.bundle = fs::join(ctx.run_root, "containers/" + id);
    d.rootfs = fs::join(d.bundle, "rootfs");
    return d;
}

Result<void> ContainerDirs::create() const {
    // The upper directory's mode is the mode of the container's `/` (the
    // overlay's root takes it): 0755, or a user other than root in the
    // container could not look up any path. Its parent stays 0700.
    BOCK_TRY(fs::mkdir_p(storage, 0700));
    BOCK_TRY(fs::mkdir_p(upper, 0755));
    for (const auto* p : {&work, &rootfs}) BOCK_TRY(fs::mkdir_p(*p, 0700));
    return ok();
}

Result<void> ContainerDirs::unmount() const {
    // Stacked mounts (none today) come off one at a time.
    for (int i = 0; i < 8; i++) {
        auto r = sys::umount(rootfs, MNT_DETACH | UMOUNT_NOFOLLOW);
        if (r) continue;
        if (r.error().code() == EINVAL || r.error().code() == ENOENT) return ok();  // not a mount point (any more)
        return std::move(r).error().wrap("unmount the container's root filesystem");
    }
    return ok();
}

Result<void> ContainerDirs::remove() const {
    // A stopped container's monitor may still be writing its exit file and
    // last log lines while this runs (`bock rm` right after `bock stop`):
    // a file created behind the walk makes it ENOTEMPTY, so it walks again.
    Result<void> a = ok(), b = ok();
    for (int attempt = 0; attempt < 20; attempt++) {
        a = fs::remove_all(bundle);
        b = fs::remove_all(storage);
        bool again = (!a && a.error().code() == ENOTEMPTY) || (!b && b.error().code() == ENOTEMPTY);
        if (!again) break;
        ::usleep(10 * 1000);
    }
    if (!a) return std::move(a).error();
    if (!b) return std::move(b).error();
    return ok();
}

Result<std::string> new_container_id() {
    unsigned char raw[32];
    if (::getrandom(raw, sizeof raw, 0) != static_cast<ssize_t>(sizeof raw)) return errno_error("getrandom");
    std::string id;
    for (unsigned char c : raw) id += fmt::format("{:02x}", c);
    return id;
}

}  // namespace bock::engine
