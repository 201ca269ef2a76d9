// Kernel overlayfs. The new mount API (fsopen/fsconfig/fsmount/move_mount)
// takes each lower with "lowerdir+" (Linux 6.8+): no length limit and no
// escaping of ':' or ','. Older kernels get mount(2) with a lowerdir= string.
// The kernel's own explanation of a refusal is read back from the fs
// context and added to the error.
#include "bock/layers/overlay.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/sys.hpp"

namespace bock::layers {

namespace {

// Reads the messages the kernel queued on an fs context ("e overlay: ...").
std::string fs_context_log(int fd) {
    std::string out;
    char buf[512];
    for (int i = 0; i < 8; ++i) {
        ssize_t n = ::read(fd, buf, sizeof buf - 1);
        if (n <= 0) break;
        buf[n] = '\0';
        std::string line(buf, static_cast<size_t>(n));
        while (!line.empty() && line.back() == '\n') line.pop_back();
        if (line.size() > 2 && line[1] == ' ') line = line.substr(2);  // "e ", "w ", "i "
        if (!out.empty()) out += "; ";
        out += line;
    }
    return out;
}

std::string kernel_release() {
    struct utsname u;
    if (::uname(&u) < 0) return "unknown";
    return u.release;
}

Error overlay_error(int code, const OverlaySpec& s, size_t lowers, std::string_view how,
                    const std::string& kernel_says) {
    Error e(code, fmt::format("mount overlay on `{}` ({} lower{}{}{}){}", s.target, lowers,
                              lowers == 1 ? "" : "s", how.empty() ? "" : ", ", how,
                              kernel_says.empty() ? "" : ": " + kernel_says));
    if (s.userxattr && (code == EPERM || code == EINVAL))
        e.with_hint(fmt::format("rootless overlayfs needs Linux 5.11 or newer (userxattr) and upper/work "
                                "directories on a filesystem that supports user xattrs; this kernel is {}",
                                kernel_release()));
    return e;
}

enum class NewApi { mounted, unsupported };

// Returns unsupported when the kernel lacks fsopen or "lowerdir+".
Result<NewApi> mount_new_api(const OverlaySpec& s, const std::vector<std::string>& top_first) {
    int raw_fd = ::fsopen("overlay", FSOPEN_CLOEXEC);
    if (raw_fd < 0) {
        if (errno == ENOSYS) return NewApi::unsupported;
        return overlay_error(errno, s, top_first.size(), "fsopen", "");
    }
    Fd fs(raw_fd);
    auto set = [&](const char* key, const std::string& value) -> int {
        return ::fsconfig(fs.get(), FSCONFIG_SET_STRING, key, value.c_str(), 0) < 0 ? errno : 0;
    };
    for (size_t i = 0; i < top_first.size(); ++i) {
        int err = set("lowerdir+", top_first[i]);
        if (err == EINVAL && i == 0) {
            log::debug("overlay: the kernel has no \"lowerdir+\" ({}); using mount(2)", fs_context_log(fs.get()));
            return NewApi::unsupported;
        }
        if (err)
            return overlay_error(err, s, top_first.size(), fmt::format("lower `{}`", top_first[i]),
                                 fs_context_log(fs.get()));
    }
    if (!s.upper.empty()) {
        if (int err = set("upperdir", s.upper))
            return overlay_error(err, s, top_first.size(), fmt::format("upper `{}`", s.upper), fs_context_log(fs.get()));
        if (int err = set("workdir", s.work))
            return overlay_error(err, s, top_first.size(), fmt::format("work `{}`", s.work), fs_context_log(fs.get()));
    }
    if (s.userxattr && ::fsconfig(fs.get(), FSCONFIG_SET_FLAG, "userxattr", nullptr, 0) < 0)
        return overlay_error(errno, s, top_first.size(), "userxattr", fs_context_log(fs.get()));
    if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
        return overlay_error(errno, s, top_first.size(), "", fs_context_log(fs.get()));
    int mfd = ::fsmount(fs.get(), FSMOUNT_CLOEXEC, 0);
    if (mfd < 0) return overlay_error(errno, s, top_first.size(), "fsmount", fs_context_log(fs.get()));
    Fd mnt(mfd);
    if (::move_mount(mnt.get(), "", AT_FDCWD, s.target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return overlay_error(errno, s, top_first.size(), "move_mount", "");
    return NewApi::mounted;
}

Result<void> mount_legacy(const OverlaySpec& s, const std::vector<std::string>& top_first) {
    std::string lowerdir;
    for (const auto& l : top_first) {
        if (l.find(',') != std::string::npos)
            return make_error("mount overlay on `{}`: lower `{}` has a ',' (mount(2) cannot pass it)", s.target, l);
        if (!lowerdir.empty()) lowerdir += ':';
        for (char ch : l) {
            if (ch == ':' || ch == '\\') lowerdir += '\\';
            lowerdir += ch;
        }
    }
    std::string data = "lowerdir=" + lowerdir;
    if (!s.upper.empty()) data += ",upperdir=" + s.upper + ",workdir=" + s.work;
    if (s.userxattr) data += ",userxattr";
    long page = ::sysconf(_SC_PAGESIZE);
    if (static_cast<long>(data.size()) >= (page > 0 ? page : 4096))
        return make_error("mount overlay on `{}` ({} lowers): the options are {} bytes, more than mount(2) takes "
                          "on this kernel (Linux 6.8 lifts the limit)",
                          s.target, top_first.size(), data.size());
    if (::mount("overlay", s.target.c_str(), "overlay", 0, data.c_str()) < 0)
        return overlay_error(errno, s, top_first.size(), "mount(2)", "");
    return ok();
}

}  // namespace

Result<ScopedMount> mount_overlay(const OverlaySpec& spec) {
    if (spec.target.empty()) return make_error("mount overlay: no target directory");
    if (!spec.upper.empty() && spec.work.empty())
        return make_error("mount overlay on `{}`: an upper directory needs a work directory", spec.target);
    std::vector<std::string> top_first(spec.lowers.rbegin(), spec.lowers.rend());
    if (top_first.empty()) {
        // An image without layers: one empty lower next to the upper.
        std::string base = spec.upper.empty() ? spec.target : spec.upper;
        std::string empty = fs::join(base, "../empty-lower");
        BOCK_TRY_CTX(fs::mkdir_p(empty, 0755), fmt::format("mount overlay on `{}`", spec.target));
        top_first.push_back(empty);
    }
    auto r = BOCK_TRY(mount_new_api(spec, top_first));
    if (r == NewApi::unsupported) BOCK_TRY(mount_legacy(spec, top_first));
    log::debug("overlay on `{}`: {} lower(s){}", spec.target, top_first.size(), spec.userxattr ? ", userxattr" : "");
    return ScopedMount(spec.target);
}

Result<void> probe_overlay(const std::string& scratch_dir, bool userxattr) {
    std::string dir = BOCK_TRY_CTX(fs::make_temp_dir(scratch_dir, "overlay-probe-"), "probe overlayfs");
    struct Cleanup {
        std::string path;
        ~Cleanup() {
            if (auto r = fs::remove_all(path); !r) log::debug("probe overlayfs: {}", r.error().to_string());
        }
    } cleanup{dir};

    OverlaySpec s;
    s.lowers = {fs::join(dir, "lower")};
    s.upper = fs::join(dir, "upper");
    s.work = fs::join(dir, "work");
    s.target = fs::join(dir, "merged");
    s.userxattr = userxattr;
    for (const auto* d : {&s.lowers[0], &s.upper, &s.work, &s.target})
        BOCK_TRY_CTX(fs::mkdir_p(*d, 0755), "probe overlayfs");
    BOCK_TRY_CTX(fs::write_file_atomic(fs::join(s.lowers[0], "probe"), "bock\n"), "probe overlayfs");
    {
        ScopedMount m = BOCK_TRY_CTX(mount_overlay(s), "probe overlayfs");
        if (!fs::exists(fs::join(s.target, "probe")))
            return make_error("probe overlayfs: a file of the lower layer is not visible in `{}`", s.target);
        BOCK_TRY_CTX(fs::write_file_atomic(fs::join(s.target, "written"), "x"), "probe overlayfs: write through the overlay");
        BOCK_TRY_CTX(sys::umount(m.release()), "probe overlayfs");
    }
    if (!fs::exists(fs::join(s.upper, "written")))
        return make_error("probe overlayfs: a file written through the overlay did not reach the upper directory");
    return ok();
}

}  // namespace bock::layers
