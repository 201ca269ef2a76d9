// `bock run`/`bock create` flags for user namespaces and resource limits
// (engine/src/run_userns.cpp, run_limits.cpp; docs/userns.md, docs/limits.md).
#include "container_flags.hpp"

namespace bock::cli {

void add_userns_limit_flags(CLI::App* cmd, engine::RunRequest& req) {
    cmd->add_option("--userns", req.userns,
                    "User namespace: host (default), keep-id[:uid=N,gid=N] (your uid/gid inside, rootless), "
                    "auto[:size=N] (a free range), ns:PATH");
    cmd->add_option("--uidmap", req.uidmap, "Map container uids: CONTAINER:HOST:SIZE (rootless: HOST is a uid of "
                                            "the rootless session, 0 = you, 1.. = your subordinate range)")
        ->allow_extra_args(false);
    cmd->add_option("--gidmap", req.gidmap, "Map container gids: CONTAINER:HOST:SIZE (default: as --uidmap)")
        ->allow_extra_args(false);
    cmd->add_option("-m,--memory", req.memory, "Memory limit (e.g. 64m, 1g)");
    cmd->add_option("--memory-swap", req.memory_swap, "Memory plus swap limit (-1: unlimited; default twice --memory)");
    cmd->add_option("--cpus", req.cpus, "CPUs the container may use (e.g. 1.5)");
    cmd->add_option("-c,--cpu-shares", req.cpu_shares, "Relative CPU weight (default 1024)");
    cmd->add_option("--pids-limit", req.pids_limit, "Most processes at once (-1: unlimited)");
    cmd->add_option("--blkio-weight", req.blkio_weight, "Relative block I/O weight, 10 to 1000");
    cmd->add_option("--device-read-bps", req.device_read_bps, "Read rate limit of a device: DEVICE:RATE (e.g. /dev/sda:1mb)")
        ->allow_extra_args(false);
    cmd->add_option("--device-write-bps", req.device_write_bps, "Write rate limit of a device: DEVICE:RATE")
        ->allow_extra_args(false);
    cmd->add_flag("--ignore-limits", req.ignore_limits,
                  "Run without the limits this host cannot enforce (rootless without cgroup delegation) instead of "
                  "refusing");
}

}  // namespace bock::cli
