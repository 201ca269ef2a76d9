// Bundles written by another tool (`runc spec`, `runc spec --rootless`,
// edited here as a user or engine would) that crun and runc run, shared by
// the root and rootless suites (issue 10):
//  - a default-deny seccomp profile whose allow list is an older runtime
//    default's (every system call up to rseq, Linux 4.18: no openat2, no
//    close_range, no clone3, no faccessat2), with noNewPrivileges false:
//    the command runs in its cwd, `exec` into the container works, a newer
//    system call returns ENOSYS and a left-out older one the profile's EPERM;
//  - a container joining another's mount, network, ipc and uts namespaces
//    (and pid; rootless: the owning user namespace) by path and seeing its
//    files;
//  - linux.rootfsPropagation shared, slave, private and unbindable, as
//    /proc/self/mountinfo shows the container's `/`;
//  - the status each hook reads, against crun's.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace bock::test {

// A busybox + probe rootfs under tmp_dir()/NAME with config.json from
// `runc spec` (`--rootless` when not root); skips when runc is missing.
std::string runc_spec_bundle(const std::string& name);

void check_old_seccomp_profile_scenario(const std::string& id_prefix);
void check_namespace_join_scenario(const std::string& id_prefix);
void check_rootfs_propagation_scenario(const std::string& id_prefix);
// The status every hook reads on stdin, bock-oci against crun on the same
// bundle (crun runs here with its cgroups disabled, in a mount namespace
// without the hybrid cgroup2 mount it refuses; rootless inside
// `unshare -Urm`, as podman runs it).
void check_hook_status_against_crun(const std::string& id_prefix);

}  // namespace bock::test
