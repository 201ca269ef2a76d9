// The volume and mount flags of `bock run` and `bock create`
// (docs/volumes.md); parsed and checked by the engine (run_volumes.cpp).
#include "container_flags.hpp"

namespace bock::cli {

void add_volume_flags(CLI::App* cmd, engine::RunRequest& req) {
    cmd->add_option("-v,--volume", req.volumes,
                    "Mount a volume or a host directory: [SRC:]DST[:ro|rw|z|Z|U|O|nocopy,...] (SRC an absolute "
                    "host path, or a volume name, created on first use; DST alone: an anonymous volume)")
        ->allow_extra_args(false);
    cmd->add_option("--mount", req.mounts,
                    "Mount: type=bind|volume|tmpfs,src=,dst=|target=[,ro][,volume-opt=K=V][,volume-nocopy]"
                    "[,tmpfs-size=][,tmpfs-mode=][,bind-propagation=][,U]")
        ->allow_extra_args(false);
    cmd->add_option("--tmpfs", req.tmpfs, "Mount a tmpfs: DST[:OPTIONS] (size=, mode=, ...; default rw,noexec,nosuid,nodev)")
        ->allow_extra_args(false);
    cmd->add_option("--volumes-from", req.volumes_from,
                    "Mount the volumes and bind mounts of another container: CONTAINER[:ro|rw]")
        ->allow_extra_args(false);
}

}  // namespace bock::cli
