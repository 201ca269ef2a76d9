#include "container_flags_security.hpp"

namespace bock::cli {

void add_security_flags(CLI::App* cmd, engine::SecurityOptions& o) {
    auto many = [&](const char* name, std::vector<std::string>& v, const char* help) {
        cmd->add_option(name, v, help)->allow_extra_args(false);
    };
    many("--cap-add", o.cap_add, "Add a capability (NET_ADMIN, CAP_NET_ADMIN or ALL) to the default set");
    many("--cap-drop", o.cap_drop, "Drop a capability (or ALL) from the default set");
    many("--security-opt", o.security_opt,
         "seccomp=FILE|unconfined, no-new-privileges[=true|false], mask=PATH[:PATH], unmask=ALL|PATH[:PATH]");
    cmd->add_flag("--privileged", o.privileged,
                  "Every capability bock holds, no seccomp, no masked paths, the host's devices (docs/security.md)");
    cmd->add_flag("--read-only", o.read_only, "Mount the root filesystem read-only (--read-only=false: not even when the image asks)")
        ->each([&o](const std::string&) { o.read_only_given = true; });
    cmd->add_flag("--read-only-tmpfs", o.read_only_tmpfs,
                  "With --read-only, tmpfs on /tmp, /var/tmp and /run (default true; --read-only-tmpfs=false)");
    many("--device", o.devices, "A host device in the container: HOST[:CONTAINER[:PERMS]] (rootless: bind-mounted)");
    many("--group-add", o.group_add, "An additional group (GID or a name from the image's /etc/group)");
    many("--sysctl", o.sysctls, "A namespaced sysctl: KEY=VALUE (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, net.*)");
    cmd->add_option("--shm-size", o.shm_size, "Size of /dev/shm (e.g. 256m; default 64m)");
    many("--ulimit", o.ulimits, "A resource limit: NAME=SOFT[:HARD] (nofile=1024:2048, core=-1)");
    cmd->add_option("--pid", o.pid, "PID namespace: private (default), host or container:NAME");
    cmd->add_option("--ipc", o.ipc, "IPC namespace: private (default), host or container:NAME");
    cmd->add_option("--uts", o.uts, "UTS namespace (host name): private (default), host or container:NAME");
    many("--env-file", o.env_files, "Read environment variables from a file (K=V lines; -e wins)");
    many("--annotation", o.annotations, "An OCI annotation on the container: KEY=VALUE");
}

}  // namespace bock::cli
