// What `bock run` and `bock create` take about a container's confinement
// and its view of the host (docs/security.md): capabilities, seccomp,
// no_new_privs, masked paths, a read-only root, devices, groups, sysctls,
// /dev/shm's size, rlimits, shared pid/ipc/uts namespaces, environment
// files and annotations. Applied to the OCI spec by engine/src/run_security.cpp.
#pragma once

#include <string>
#include <vector>

namespace bock::engine {

struct SecurityOptions {
    std::vector<std::string> cap_add, cap_drop;   // --cap-add/--cap-drop NAME|CAP_NAME|ALL
    std::vector<std::string> security_opt;        // --security-opt seccomp=FILE|unconfined, no-new-privileges[=B], mask=, unmask=
    bool privileged = false;                      // --privileged
    bool read_only = false;                       // --read-only
    bool read_only_given = false;                 // --read-only[=B] was on the command line (an image's default yields)
    bool read_only_tmpfs = true;                  // --read-only-tmpfs (tmpfs on /tmp, /var/tmp, /run)
    std::vector<std::string> devices;             // --device HOST[:CONTAINER[:PERMS]]
    std::vector<std::string> group_add;           // --group-add GID|NAME
    std::vector<std::string> sysctls;             // --sysctl K=V
    std::string shm_size;                         // --shm-size SIZE (empty: 64m)
    std::vector<std::string> ulimits;             // --ulimit NAME=SOFT[:HARD]
    std::string pid, ipc, uts;                    // --pid/--ipc/--uts host|container:NAME (empty: private)
    std::vector<std::string> env_files;           // --env-file FILE
    std::vector<std::string> annotations;         // --annotation K=V
    std::vector<std::string> default_caps;        // bock.conf's default_capabilities (empty: podman's set)
};

// The capabilities a container gets by default: podman's set (no NET_RAW,
// MKNOD or AUDIT_WRITE), by their kernel names.
const std::vector<std::string>& default_capabilities();

}  // namespace bock::engine
