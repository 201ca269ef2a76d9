// `bock doctor`: what this machine allows, one line per check, each with
// the fix. Nothing here changes the machine; the overlay check mounts in a
// throw-away user namespace of a child process.
#include "bock/engine/doctor.hpp"
#include "run_isolation.hpp"

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/magic.h>

#include "bock/common/fs.hpp"
#include "bock/common/paths.hpp"
#include "bock/common/subprocess.hpp"
#include "bock/common/sys.hpp"
#include "bock/layers/overlay.hpp"
#include "bock/userns/checks.hpp"
#include "bock/userns/idmap.hpp"

namespace bock::engine {
namespace {

DoctorCheck from(std::string name, const userns::CheckResult& r, Severity bad) {
    return {std::move(name), r.ok ? Severity::ok : bad, r.detail, r.fix};
}

// Overlay mounted inside a fresh user namespace (rootless) or directly (root),
// in a forked child so that nothing of it reaches this process.
DoctorCheck check_overlay(const Context& ctx) {
    DoctorCheck c{"overlay", Severity::ok, "", ""};
    auto scratch = fs::make_temp_dir("/tmp", "bock-doctor-");
    if (!scratch) return {"overlay", Severity::warn, scratch.error().to_string(), ""};
    auto pipe = sys::pipe();
    if (!pipe) return {"overlay", Severity::warn, pipe.error().to_string(), ""};
    uid_t uid = ::getuid();
    gid_t gid = ::getgid();
    pid_t pid = ::fork();
    if (pid == 0) {
        pipe->first.reset();
        std::string msg;
        bool okay = true;
        if (ctx.rootless) {
            if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
                msg = "unshare: " + Error(errno, "").to_string();
                okay = false;
            } else {
                (void)fs::write_file("/proc/self/setgroups", "deny");
                (void)fs::write_file("/proc/self/uid_map", fmt::format("0 {} 1", uid));
                (void)fs::write_file("/proc/self/gid_map", fmt::format("0 {} 1", gid));
            }
        } else if (::unshare(CLONE_NEWNS) < 0) {
            okay = false;
            msg = "unshare mount namespace failed";
        }
        if (okay) {
            ::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
            auto r = layers::probe_overlay(*scratch, ctx.rootless);
            if (!r) {
                okay = false;
                msg = r.error().to_string();
            }
        }
        std::string out = (okay ? "1" : "0") + msg;
        (void)sys::raw::write_all(pipe->second.get(), out.data(), out.size());
        ::_exit(0);
    }
    pipe->second.reset();
    std::string out;
    char buf[512];
    ssize_t n;
    while ((n = ::read(pipe->first.get(), buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    int st;
    ::waitpid(pid, &st, 0);
    (void)fs::remove_all(*scratch);
    bool fo = find_program("fuse-overlayfs").has_value();
    bool bf = paths::helper_path("bock-fuse-overlay").has_value();
    bool dev_fuse = ::access("/dev/fuse", R_OK | W_OK) == 0;
    std::string fallback = fmt::format("fallback: fuse-overlayfs {}, bock-fuse {}{}", fo ? "available" : "not in PATH",
                                       bf ? "available" : "missing", dev_fuse ? "" : " (but /dev/fuse is not usable)");
    if (!out.empty() && out[0] == '1') {
        c.detail = (ctx.rootless ? "kernel overlay mounts in a user namespace (userxattr)" : "kernel overlay mounts") +
                   std::string("; ") + fallback;
    } else {
        bool fuse_ok = dev_fuse && (fo || bf);
        c.severity = fuse_ok ? Severity::warn : Severity::fail;
        c.detail = (out.empty() ? "probe failed" : out.substr(1)) + "; " + fallback;
        c.fix = fuse_ok ? "bock run falls back to a FUSE overlay (slower); Linux 5.11 or newer mounts overlay in a user namespace"
                        : "install fuse-overlayfs (and make /dev/fuse usable), or use Linux 5.11 or newer; else bock run copies the layers (vfs)";
    }
    return c;
}

DoctorCheck check_device(const std::string& name, const std::string& path, const std::string& needed_for) {
    struct stat st;
    if (::stat(path.c_str(), &st) < 0)
        return {name, Severity::warn, fmt::format("{} is missing", path),
                fmt::format("load the kernel module (needed for {})", needed_for)};
    if (::access(path.c_str(), R_OK | W_OK) < 0)
        return {name, Severity::warn, fmt::format("{} is mode {:o}: not usable by this user", path, st.st_mode & 07777),
                fmt::format("as root: chmod 666 {} (most distributions ship it so; needed for {})", path, needed_for)};
    return {name, Severity::ok, fmt::format("{} usable", path), ""};
}

}  // namespace

DoctorCheck check_cgroups(const Context& ctx) {
    struct statfs sf;
    if (::statfs("/sys/fs/cgroup", &sf) < 0) return {"cgroups", Severity::warn, "/sys/fs/cgroup is not mounted", ""};
    if (sf.f_type == CGROUP2_SUPER_MAGIC) {
        auto self = fs::read_file("/proc/self/cgroup").value_or("");
        std::string path = self.substr(self.rfind("::") == std::string::npos ? 0 : self.rfind("::") + 2);
        while (!path.empty() && path.back() == '\n') path.pop_back();
        std::string dir = "/sys/fs/cgroup" + path;
        bool writable = ::access(dir.c_str(), W_OK) == 0;
        auto ctrl = fs::read_file(fs::join(dir, "cgroup.controllers")).value_or("");
        while (!ctrl.empty() && ctrl.back() == '\n') ctrl.pop_back();
        if (!ctx.rootless || writable)
            return {"cgroups", Severity::ok, fmt::format("v2, {} delegated (controllers: {})", dir, ctrl), ""};
        return {"cgroups", Severity::info, fmt::format("v2, {} not delegated: resource limits will not be enforced", dir),
                "with systemd: systemctl edit user@.service, add Delegate=yes under [Service], and log in again"};
    }
    bool hybrid = false;
    struct statfs uf;
    if (::statfs("/sys/fs/cgroup/unified", &uf) == 0 && uf.f_type == CGROUP2_SUPER_MAGIC) hybrid = true;
    std::string kind = hybrid ? "v1 (hybrid: cgroup2 at /sys/fs/cgroup/unified)" : "v1";
    if (!ctx.rootless) return {"cgroups", Severity::ok, kind + ", managed by root", ""};
    return {"cgroups", Severity::info, kind + ": no delegation to users, resource limits will not be enforced rootless",
            "boot with systemd.unified_cgroup_hierarchy=1 for cgroup v2 delegation"};
}

std::vector<DoctorCheck> run_doctor(const Context& ctx) {
    std::vector<DoctorCheck> out;
    if (!ctx.rootless) {
        out.push_back({"mode", Severity::ok, "root: no user namespace, newuidmap not needed", ""});
    } else {
        out.push_back(from("user namespaces", userns::check_userns_allowed(), Severity::fail));
        auto who = userns::current_user();
        if (!who) {
            out.push_back({"subordinate ids", Severity::fail, who.error().to_string(), ""});
        } else {
            auto plan = userns::plan_rootless_mappings(*who);
            if (!plan) {
                out.push_back({"subordinate ids", Severity::fail, plan.error().to_string(), plan.error().hint()});
            } else if (plan->single) {
                out.push_back({"subordinate ids", Severity::warn,
                               fmt::format("no range for {} in /etc/subuid and /etc/subgid: single-ID mapping, "
                                           "images with other owners cannot keep them",
                                           who->name.empty() ? std::to_string(who->uid) : who->name),
                               userns::no_range_hint(*who)});
            } else {
                uint64_t n = 0;
                for (size_t i = 1; i < plan->uids.size(); ++i) n += plan->uids[i].size;
                out.push_back({"subordinate ids", Severity::ok,
                               fmt::format("{} subordinate ids from host id {} (container ids 1..{})", n,
                                           plan->uids.size() > 1 ? plan->uids[1].host_id : 0, n),
                               ""});
                Severity bad = Severity::fail;
                out.push_back(from("newuidmap", userns::check_idmap_program("newuidmap"), bad));
                out.push_back(from("newgidmap", userns::check_idmap_program("newgidmap"), bad));
            }
        }
    }
    out.push_back(check_overlay(ctx));
    out.push_back(check_device("/dev/fuse", "/dev/fuse", "fuse-overlayfs and Bock's FUSE overlay"));
    out.push_back(check_device("/dev/net/tun", "/dev/net/tun", "rootless networking with bock-netns"));
    out.push_back(check_cgroups(ctx));
    {
        // Which of run's limit flags hold here (run_limits.cpp refuses the others).
        auto lr = limits_report(ctx);
        std::string held, not_held;
        for (const auto& l : lr.limits) {
            std::string& list = l.holds ? held : not_held;
            list += (list.empty() ? "" : ", ") + l.flag;
        }
        if (!lr.any)
            out.push_back({"limits", Severity::info,
                           fmt::format("{}: refused ({}; --ignore-limits runs without them)", not_held, lr.why), lr.fix});
        else
            out.push_back({"limits", not_held.empty() ? Severity::ok : Severity::info,
                           not_held.empty() ? fmt::format("enforced in {}: {}", lr.where, held)
                                            : fmt::format("enforced in {}: {}; not available: {}", lr.where, held, not_held),
                           ""});
    }
    out.push_back({"store", Severity::ok, ctx.store_root, ""});
    return out;
}

}  // namespace bock::engine
