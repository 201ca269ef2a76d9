// The engine's container record, the one place a container's state is
// kept (engine/src/container_record.cpp):
//   <store>/containers/<id>/container.json
// It is written atomically at each step of a container's life and every
// write is checked. What is stored is what happened (created, started by
// process P with start time T, exited with code C); whether a container is
// still running is derived from facts each time it is read: a "running"
// record whose owning process is gone (same pid, other start time, or no
// process) was killed before it could record the exit, and is shown as
// exited with that reason.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bock/common/error.hpp"
#include "bock/engine/context.hpp"

namespace bock::engine {

// A published port (-p), as given to bock-netns.
struct PortMapping {
    std::string host_ip;  // empty: all addresses
    uint16_t host_port = 0;
    uint16_t container_port = 0;
    std::string proto = "tcp";  // tcp | udp
};

struct ContainerRecord {
    std::string id;
    std::string name;
    std::string image;     // the image's name (or id) when it was created
    std::string image_id;  // config hex
    std::vector<std::string> command;
    int64_t created = 0;   // unix seconds
    int64_t created_ns = 0;  // the same instant in nanoseconds (orders `bock ps`)
    std::string state = "created";  // created | running | exited (what was recorded)
    // The bock process that owns the container's life (the foreground
    // `bock run` today), with its start time to tell pid reuse.
    pid_t owner_pid = 0;
    uint64_t owner_start = 0;
    int64_t started = 0;   // unix seconds
    int64_t finished = 0;  // unix seconds
    std::optional<int> exit_code;  // unset: not known
    std::string exit_reason;       // why it ended, when not by exiting
    bool auto_remove = false;      // --rm
    std::string storage_driver;    // the backend its root was mounted with (overlay, bock-fuse, ...)
    // Lower layers stacked on the image's (the network files' mount
    // targets): vfs copies them too, so its diff compares with them.
    std::vector<std::string> extra_lowers;
    // --userns/--uidmap/--gidmap (run_userns.cpp): what was asked, the
    // container's maps as "C:H:N" (H: the session's ids rootless, the
    // host's as root) and the id shift its root is mounted with (FUSE's
    // uidmapping/gidmapping syntax; empty: none).
    std::string userns;
    std::vector<std::string> uid_map, gid_map;
    std::string shift_uids, shift_gids;
    std::string network;           // none | host | slirp4netns | container:ID | ns:PATH | NAME[,NAME...]
    std::vector<PortMapping> ports;  // -p, for `bock port` and `bock ps`
    // The bock-netns helper serving its network (slirp4netns), with its
    // start time: it lives as long as the container's init, whoever runs
    // it; `bock rm -f` and crash recovery stop it by these.
    pid_t netns_pid = 0;
    uint64_t netns_start = 0;
    // What it was created with, for `bock inspect` (Docker's Config).
    std::string hostname;
    std::string user;      // as asked (-u or the image's User)
    std::string workdir;
    std::vector<std::string> env;
    std::vector<std::string> entrypoint, cmd;  // `command` is both together
    std::map<std::string, std::string> labels;  // the image's, then --label
    // The health check (health.hpp: {"test", "interval_ns", "timeout_ns",
    // "start_period_ns", "retries", "on_failure"}); null: none.
    nlohmann::json healthcheck;

    // Detached containers (docs/monitor.md). The monitor that holds the
    // container, with its start time; it execs `bock container cleanup`
    // at the end, keeping its pid. 0: none (a foreground run).
    pid_t monitor_pid = 0;
    uint64_t monitor_start = 0;
    bool detached = false;          // has (or had) a monitor: started by run -d, create, start
    bool tty = false;               // -t
    bool interactive = false;       // -i
    std::string restart_policy = "no";  // no | on-failure | always | unless-stopped
    int restart_max = 0;            // on-failure:N (0: no limit)
    int restart_count = 0;          // restarts done by the policy
    bool stop_requested = false;    // bock stop: the policies do not restart it
    int stop_signal = 15;
    int stop_timeout = 10;          // seconds
    std::string log_driver = "json-file";  // json-file | none | passthrough
    uint64_t log_max_size = 0;      // bytes, 0: no rotation
    bool init = false;              // --init

    // Restarts outside the policy (issue 16 leftovers, docs/monitor.md):
    // --health-on-failure=restart asks the cleanup to start the container
    // again whatever its policy; `restarting` is set while the cleanup
    // waits its backoff (status "restarting" while the cleanup lives).
    bool restart_requested = false;
    bool restarting = false;

    // Volumes and mounts (docs/volumes.md): one object per mount, Docker's
    // inspect fields (Type, Name, Source, Destination, RW, Mode,
    // Propagation) plus Bock's own (Options, CopyUp, Chown, Overlay).
    nlohmann::json mounts = nlohmann::json::array();

    nlohmann::json to_json() const;
    static Result<ContainerRecord> from_json(const nlohmann::json& j, const std::string& path);
};

// A record with its status derived from facts.
struct ContainerInfo {
    ContainerRecord rec;
    std::string status;  // created | running | restarting | exited
    bool paused = false;  // running, with its cgroup frozen (`bock pause`)
    std::optional<int> exit_code;
    std::string reason;  // set when the exit was not recorded (e.g. bock was killed)
    int64_t finished = 0;
};

// Writes the record atomically (<store>/containers/<id>/container.json).
Result<void> save_record(const Context& ctx, const ContainerRecord& rec);
Result<ContainerRecord> load_record(const Context& ctx, const std::string& id);
ContainerInfo derive(const ContainerRecord& rec);

// Every container, newest first. A record that cannot be read is listed
// with status "unknown" and the reason, never skipped.
Result<std::vector<ContainerInfo>> list_containers(const Context& ctx);
// The container named by id, unique id prefix or name.
Result<ContainerInfo> find_container(const Context& ctx, const std::string& id_or_name);
// Removes a container: refused while running unless `force`, which kills
// it (and the bock process running it) first. Unmounts its root, removes
// its directories, releases its lease last. Returns its id.
Result<std::string> remove_container(const Context& ctx, const std::string& id_or_name, bool force);
// Leases whose container is gone (a removal killed after its directories
// went): released. Called by commands that remove containers.
Result<void> release_orphan_leases(const Context& ctx);

// The status of a detached container from what its monitor left: the
// monitor alive, the exit file, the exec fifo (docs/monitor.md). derive()
// plus these facts; list_containers and find_container use it.
ContainerInfo derive_with_facts(const Context& ctx, const ContainerRecord& rec);

// A podman-style name ("adjective_surname") no container has yet.
Result<std::string> generate_name(const Context& ctx);

}  // namespace bock::engine
