#include "sandbox.hpp"

#include <linux/capability.h>
#include <linux/mount.h>
#include <linux/securebits.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bock/common/sys.hpp"

namespace bock::netns {

namespace {

constexpr const char* kRoot = "/tmp";  // any existing directory: it is covered, then becomes /

// Read-only, nosuid, nodev, noexec for a whole mount tree.
Result<void> make_readonly_tree(const std::string& path) {
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
    if (::syscall(SYS_mount_setattr, AT_FDCWD, path.c_str(), AT_RECURSIVE, &attr, sizeof attr) < 0)
        return errno_error("make `{}` read-only", path);
    return ok();
}

Result<void> bind(const std::string& from, const std::string& root) {
    std::string to = root + from;
    if (::mkdir(to.c_str(), 0755) < 0) return errno_error("mkdir `{}`", to);
    return sys::mount(from, to, nullptr, MS_BIND | MS_REC);
}

}  // namespace

Result<void> enter_mount_sandbox() {
    BOCK_TRY_CTX(sys::unshare(CLONE_NEWNS), "sandbox: new mount namespace");
    BOCK_TRY_CTX(sys::mount("none", "/", nullptr, MS_REC | MS_PRIVATE), "sandbox");
    BOCK_TRY_CTX(sys::mount("tmpfs", kRoot, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k"),
                 "sandbox");
    std::string root = kRoot;
    BOCK_TRY_CTX(bind("/etc", root), "sandbox");
    if (::access("/run", F_OK) == 0) BOCK_TRY_CTX(bind("/run", root), "sandbox");
    // pivot_root(".", "."): the old root ends up stacked on the new one,
    // and is detached from there (no directory for it to be made and
    // removed).
    if (::chdir(kRoot) < 0) return errno_error("sandbox: chdir `{}`", kRoot);
    if (int r = sys::raw::pivot_root(".", "."); r < 0) return Error(-r, fmt::format("sandbox: pivot_root to `{}`", kRoot));
    BOCK_TRY_CTX(sys::umount(".", MNT_DETACH), "sandbox: detach the old root");
    if (::chdir("/") < 0) return errno_error("sandbox: chdir /");
    // Read-only, nosuid, nodev, noexec: the root and, recursively, the binds.
    BOCK_TRY_CTX(make_readonly_tree("/"), "sandbox");
    return ok();
}

Result<void> drop_privileges() {
    // Keep uid 0 from regaining capabilities (exec is blocked anyway).
    if (::prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                                       SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED) < 0 &&
        errno != EPERM)
        return errno_error("set securebits");
    for (int cap = 0; cap <= CAP_LAST_CAP; ++cap)
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL && errno != EPERM)
            return errno_error("drop capability {} from the bounding set", cap);
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return errno_error("clear ambient capabilities");
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (::syscall(SYS_capset, &hdr, data) < 0) return errno_error("drop capabilities");
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return errno_error("set no_new_privs");
    return ok();
}

}  // namespace bock::netns
