// Id-mapped bind mounts (mounts[].options `idmap` / `ridmap`): the bind is
// made as a detached clone (open_tree OPEN_TREE_CLONE), id-mapped to the
// container's user namespace (mount_setattr MOUNT_ATTR_IDMAP) and moved
// onto its destination (move_mount). A file owned by uid N on disk then
// belongs to the container's uid N.
//
// The kernel lets only a process privileged over the filesystem's user
// namespace id-map it: for a host filesystem, root in the initial user
// namespace. The child is already in the container's user namespace, so
// for host filesystems the kernel refuses (EPERM), as root too: that needs
// the id-mapped tree made by the parent and moved into the child's mount
// namespace (crun's way). Tried: a tree made by the parent before clone,
// with a throwaway user namespace of the same mapping, is refused by
// move_mount in the child (EINVAL on Linux 6.18). Not done yet.
//
// Limits, refused with an error naming the mount: a new user namespace is
// needed (its mapping is the one used), per-mount uidMappings/gidMappings
// must be absent or equal to the container's, bind mounts only.
#include <sys/mount.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "child.hpp"
#include "plan.hpp"

namespace bock::runtime {

namespace {

using nlohmann::json;

bool same_mappings(const json& v, const std::vector<userns::IdMapping>& m) {
    if (!v.is_array() || v.size() != m.size()) return false;
    for (size_t i = 0; i < m.size(); ++i) {
        const json& e = v[i];
        if (!e.is_object() || e.value("containerID", -1LL) != static_cast<long long>(m[i].container_id) ||
            e.value("hostID", -1LL) != static_cast<long long>(m[i].host_id) ||
            e.value("size", -1LL) != static_cast<long long>(m[i].size))
            return false;
    }
    return true;
}

}  // namespace

Result<void> check_idmap_mounts(const Spec& spec, const Plan& p) {
    const json& raw = spec.raw.contains("mounts") ? spec.raw["mounts"] : json::array();
    for (size_t i = 0; i < p.mounts.size(); ++i) {
        const MountPlan& m = p.mounts[i];
        if (!m.idmap) continue;
        std::string field = fmt::format("mounts[{}].options", i);
        if (!m.bind) return make_error("{}: `idmap` is supported on bind mounts only", field);
        if (!p.new_user)
            return make_error("{}: `idmap` needs a new `user` namespace in linux.namespaces", field);
        if (i < raw.size() && raw[i].is_object()) {
            const json& mj = raw[i];
            if ((mj.contains("uidMappings") && !same_mappings(mj["uidMappings"], p.mappings.uids)) ||
                (mj.contains("gidMappings") && !same_mappings(mj["gidMappings"], p.mappings.gids)))
                return make_error("mounts[{}].uidMappings: mappings other than the container's are not supported", i);
        }
    }
    return ok();
}

int idmap_bind(const MountPlan& m, const char* target) {
    int userns = ::open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
    if (userns < 0) return -errno;
    int tree = static_cast<int>(::syscall(SYS_open_tree, AT_FDCWD, m.source.c_str(),
                                          OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (m.recursive ? AT_RECURSIVE : 0)));
    if (tree < 0) {
        int e = errno;
        ::close(userns);
        return -e;
    }
    struct mount_attr attr = {};
    attr.attr_set = MOUNT_ATTR_IDMAP;
    attr.userns_fd = static_cast<uint64_t>(userns);
    int r = 0;
    if (::syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | (m.idmap_recursive ? AT_RECURSIVE : 0), &attr,
                  sizeof attr) < 0)
        r = -errno;
    else if (::syscall(SYS_move_mount, tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        r = -errno;
    ::close(tree);
    ::close(userns);
    return r;
}

}  // namespace bock::runtime
