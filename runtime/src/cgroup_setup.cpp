// The cgroup side of starting a container (cgroup_setup.hpp).
#include "cgroup_setup.hpp"

#include <sched.h>
#include <sys/mount.h>

#include "bock/common/log.hpp"
#include "messages.hpp"

namespace bock::runtime {

namespace {

void warn_not_enforced(const Spec& spec, std::string_view why) {
    if (!spec.resources) return;
    auto limits = requested_limits(*spec.resources);
    if (limits.empty()) return;
    log::warn("{}: these limits are not enforced: {}; to enforce them use cgroup v2 with systemd delegation "
              "(boot with systemd.unified_cgroup_hierarchy=1 and set Delegate=yes for user@.service)",
              why, fmt::join(limits, ", "));
}

}  // namespace

Result<Cgroup> setup_container_cgroup(const Spec& spec, const RunOptions& opts) {
    CgroupLayout layout = BOCK_TRY(detect_cgroups());
    if (layout.mode == CgroupMode::none) {
        warn_not_enforced(spec, "no cgroup filesystem is mounted");
        return Cgroup();
    }
    if (opts.rootless && (layout.mode == CgroupMode::v1 || spec.cgroups_path.empty())) {
        // v1 is never delegated to users; on v2 a rootless container only
        // gets a cgroup when the engine names one (in its delegated subtree).
        warn_not_enforced(spec, layout.mode == CgroupMode::v1
                                    ? "rootless on cgroup v1: cgroups are not delegated to this user"
                                    : "rootless without linux.cgroupsPath: no delegated cgroup to use");
        return Cgroup();
    }
    std::string own = layout.mode == CgroupMode::v2 ? layout.own : (layout.v1.empty() ? "/" : layout.v1.front().own);
    std::string path = BOCK_TRY(resolve_cgroups_path(spec.cgroups_path, own, opts.id));
    auto made = Cgroup::create(layout, path);
    if (!made && opts.rootless && (made.error().code() == EACCES || made.error().code() == EPERM)) {
        warn_not_enforced(spec, fmt::format("cgroup `{}` is not delegated to this user", path));
        return Cgroup();
    }
    if (!made) return std::move(made.error()).wrap("create the container's cgroup");
    Cgroup cg = std::move(*made);
    if (spec.resources) {
        std::vector<std::string> warnings;
        BOCK_TRY_CTX(cgroup_apply(cg.paths(), *spec.resources, warnings), "apply linux.resources");
        for (const auto& w : warnings) log::warn("linux.resources.{}", w);
    }
    log::debug("container `{}`: cgroup `{}`", opts.id, path);
    return cg;
}

void plan_cgroup(Plan& plan, const CgroupPaths& cg) {
    if (plan.clone_flags & CLONE_NEWCGROUP) {
        plan.clone_flags &= ~static_cast<unsigned long>(CLONE_NEWCGROUP);
        plan.unshare_cgroupns = true;
    }
    plan.wait_cgroup = !cg.empty();
    if (cg.empty()) return;  // rootless: a cgroup mount is tried and skipped with a warning
    std::vector<MountPlan> mounts;
    for (auto& m : plan.mounts) {
        if (m.kind != MountPlan::Kind::cgroup) {
            mounts.push_back(std::move(m));
            continue;
        }
        if (cg.mode == CgroupMode::v2) {
            m.fstype = "cgroup2";
            m.source = "cgroup2";
            m.data.clear();
            mounts.push_back(std::move(m));
            continue;
        }
        unsigned long keep = m.flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
        MountPlan tmpfs;
        tmpfs.source = tmpfs.fstype = "tmpfs";
        tmpfs.destination = m.destination;
        tmpfs.rel_dest = m.rel_dest;
        tmpfs.flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
        tmpfs.data = "mode=755";
        mounts.push_back(tmpfs);
        for (const auto& [name, dir] : cg.v1) {
            MountPlan b;
            b.kind = MountPlan::Kind::cgroup;
            b.bind = true;
            b.source = dir;
            b.destination = m.destination + "/" + name;
            b.rel_dest = m.rel_dest + "/" + name;
            b.flags = keep | MS_NOSUID | MS_NODEV | MS_NOEXEC;
            mounts.push_back(std::move(b));
        }
    }
    plan.mounts = std::move(mounts);
}

Result<void> join_cgroup(const Plan& plan, const CgroupPaths& cg, pid_t pid, int sock) {
    if (!plan.wait_cgroup) return ok();
    BOCK_TRY(cgroup_add_process(cg, pid));
    int r = send_message(sock, MessageKind::cgroup_joined);
    if (r < 0) return Error(-r, "tell the container process it is in its cgroup");
    return ok();
}

}  // namespace bock::runtime
