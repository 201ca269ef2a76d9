// Id-mapped bind mounts (mounts[].options `idmap` / `ridmap`): the bind is
// made as a detached clone (open_tree OPEN_TREE_CLONE), id-mapped to the
// container's user namespace (mount_setattr MOUNT_ATTR_IDMAP) and moved
// onto its destination (move_mount). A file owned by uid N on disk then
// belongs to the container's uid N.
//
// The kernel lets only a process privileged over the filesystem's user
// namespace id-map it: for a host filesystem, root in the initial user
// namespace. The child is already in the container's user namespace, so as
// root the child asks the parent (IdmapRequest{index}, where the mount
// would be made, keeping the mount order): the parent clones the source
// with open_tree, id-maps it to /proc/CHILD/ns/user, and a helper it forks
// enters the child's mount namespace and move_mount()s it onto the
// destination, resolved inside the rootfs (RESOLVE_IN_ROOT). Rootless the
// child tries itself (idmap_bind), and the kernel refuses host filesystems
// (EPERM): one clear error.
//
// Limits, refused with an error naming the mount: a new user namespace is
// needed (its mapping is the one used), per-mount uidMappings/gidMappings
// must be absent or equal to the container's, bind mounts only.
#include <sys/mount.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <unistd.h>

#include <linux/openat2.h>
#include <sys/wait.h>

#include <cerrno>

#include "bock/common/sys.hpp"

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

Result<void> check_idmap_mounts(const Spec& spec, Plan& p) {
    const json& raw = spec.raw.contains("mounts") ? spec.raw["mounts"] : json::array();
    for (size_t i = 0; i < p.mounts.size(); ++i) {
        const MountPlan& m = p.mounts[i];
        if (!m.idmap) continue;
        std::string field = fmt::format("mounts[{}].options", i);
        if (!m.bind) return make_error("{}: `idmap` is supported on bind mounts only", field);
        if (!p.new_user)
            return make_error("{}: `idmap` needs a new `user` namespace in linux.namespaces", field);
        p.mounts[i].idmap_by_parent = ::geteuid() == 0;
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

int idmap_from_parent(Child& c, int index) {
    if (send_message(c.sock, MessageKind::idmap_request, Step::idmap_mount, 0, index) < 0) ::_exit(125);
    Message m;
    int r = recv_message(c.sock, m);
    if (r == 0) ::_exit(125);  // the parent gave up (and said why)
    if (r < 0) return r;
    if (m.kind != MessageKind::idmap_done) return -EPROTO;
    return m.err ? -m.err : 0;
}

Result<void> idmap_for_child(const Plan& p, int index, pid_t child) {
    if (index < 0 || static_cast<size_t>(index) >= p.mounts.size() || !p.mounts[static_cast<size_t>(index)].idmap)
        return make_error("the container process asked for an id-mapped mount it does not have ({})", index);
    const MountPlan& m = p.mounts[static_cast<size_t>(index)];
    std::string what = fmt::format("id-map the bind mount `{}`", m.destination);
    Fd userns = BOCK_TRY_CTX(sys::open(fmt::format("/proc/{}/ns/user", child), O_RDONLY), what);
    Fd mntns = BOCK_TRY_CTX(sys::open(fmt::format("/proc/{}/ns/mnt", child), O_RDONLY), what);
    int t = static_cast<int>(::syscall(SYS_open_tree, AT_FDCWD, m.source.c_str(),
                                       OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (m.recursive ? AT_RECURSIVE : 0)));
    if (t < 0) return errno_error("{}: clone `{}`", what, m.source);
    Fd tree(t);
    struct mount_attr attr = {};
    attr.attr_set = MOUNT_ATTR_IDMAP;
    attr.userns_fd = static_cast<uint64_t>(userns.get());
    if (::syscall(SYS_mount_setattr, tree.get(), "", AT_EMPTY_PATH | (m.idmap_recursive ? AT_RECURSIVE : 0), &attr,
                  sizeof attr) < 0)
        return errno_error("{}: `{}` (does its filesystem support idmapped mounts?)", what, m.source);
    // The move happens in the child's mount namespace: a helper enters it.
    pid_t pid = ::fork();
    if (pid < 0) return errno_error("{}: fork", what);
    if (pid == 0) {
        if (::setns(mntns.get(), CLONE_NEWNS) < 0) ::_exit(errno);
        int root = ::open(p.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0) ::_exit(errno);
        int target = sys::raw::openat2(root, m.rel_dest.c_str(), O_PATH | O_CLOEXEC, 0,
                                       RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
        if (target < 0) ::_exit(-target);
        if (::syscall(SYS_move_mount, tree.get(), "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
            ::_exit(errno);
        ::_exit(0);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return errno_error("{}: wait", what);
    if (!WIFEXITED(status)) return make_error("{}: the helper was killed", what);
    if (WEXITSTATUS(status) != 0) return Error(WEXITSTATUS(status), what);
    return ok();
}

}  // namespace bock::runtime
