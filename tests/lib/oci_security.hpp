// The runtime's protections, shared by the root and rootless suites:
//  - the CVE-2019-5736 class: bock-oci runs the container's setup from a
//    sealed memfd, so neither the host nor a container process can write
//    the runtime's binary through /proc/PID/exe;
//  - the CVE-2024-21626 class: the container's process holds no fd but
//    0, 1, 2, and its cwd is resolved inside the root filesystem;
//  - hostile bundles: a mount destination through a symlink to /etc, `..`
//    in a destination, a root filesystem that is a symlink: one error line,
//    exit 1, nothing left behind, nothing touched on the host.
#pragma once

#include <string>

namespace bock::test {

void check_sealed_exe_scenario(const std::string& id_prefix);
void check_fd_and_cwd_scenario(const std::string& id_prefix);
void check_hostile_bundle_scenario(const std::string& id_prefix);

}  // namespace bock::test
