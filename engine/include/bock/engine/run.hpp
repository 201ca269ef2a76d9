// `bock run`: a container from an image, in the foreground.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/engine/context.hpp"
#include "bock/engine/health.hpp"
#include "bock/engine/security.hpp"

namespace bock::engine {

struct RunRequest {
    std::string image;              // as typed
    std::vector<std::string> args;  // replaces the image's Cmd when non-empty
    std::vector<std::string> env;   // K=V (K alone: taken from bock's environment)
    std::optional<std::string> workdir;
    std::optional<std::string> user;  // UID[:GID] or NAME[:GROUP]
    std::optional<std::string> hostname;
    std::optional<std::string> entrypoint;
    bool remove = false;            // --rm
    // Networking (engine/include/bock/engine/network.hpp).
    std::string network;                    // --network; empty: the default
    std::vector<std::string> publish;       // -p [IP:][HOST:]CONTAINER[/tcp|udp], ports or ranges
    bool publish_all = false;               // -P: every port the image exposes, to free host ports
    std::vector<std::string> dns, dns_search, dns_option, add_host;
    std::string dns_upstream;               // --dns-upstream (else $BOCK_DNS_UPSTREAM)
    // Service networks (svcnet.hpp): --network NAME[,NAME...] names them.
    std::vector<std::string> network_aliases;  // --network-alias, on every named network
    std::string ip;                            // --ip, on the (single) named network
    std::vector<std::string> labels;  // --label K=V (K alone: empty value)
    HealthFlags health;             // --health-*, --no-healthcheck

    // Detached containers and terminals (docs/monitor.md).
    bool detach = false;            // -d: print the id and leave it running under its monitor
    bool interactive = false;       // -i: keep stdin open (attach sends it)
    bool tty = false;               // -t: a pty held by the monitor
    std::optional<std::string> name;  // --name (unique); generated otherwise
    std::string restart = "no";     // --restart no|on-failure[:N]|always|unless-stopped
    std::optional<std::string> stop_signal;  // --stop-signal (default SIGTERM)
    std::optional<int> stop_timeout;         // --stop-timeout seconds (default 10)
    std::string log_driver = "json-file";    // --log-driver json-file|none|passthrough
    std::vector<std::string> log_opts;       // --log-opt max-size=SIZE
    bool init = false;              // --init
    std::optional<std::pair<unsigned, unsigned>> console_size;  // rows, cols of the caller's terminal

    // Volumes and mounts (docs/volumes.md, engine/src/run_volumes.cpp).
    std::vector<std::string> volumes;       // -v [SRC:]DST[:OPTS] (SRC an absolute path or a volume name)
    std::vector<std::string> mounts;        // --mount type=bind|volume|tmpfs,src=,dst=,...
    std::vector<std::string> tmpfs;         // --tmpfs DST[:OPTS]
    std::vector<std::string> volumes_from;  // --volumes-from CONTAINER[:ro|rw]

    // Security and the host's resources (security.hpp, docs/security.md):
    // caps, seccomp, devices, sysctls, ulimits, shared namespaces, ...
    SecurityOptions security;

    // User namespaces and resource limits (wt-userns: cli/container_flags_userns.cpp,
    // engine/src/run_userns.cpp and run_limits.cpp; docs/userns.md, docs/limits.md).
    std::string userns;                       // --userns: "" or host, keep-id[:uid=N,gid=N], auto[:size=N], ns:PATH
    std::vector<std::string> uidmap, gidmap;  // --uidmap/--gidmap CONTAINER:HOST:SIZE
    std::string memory, memory_swap;          // --memory, --memory-swap SIZE (swap -1: unlimited)
    std::string cpus;                         // --cpus N[.N]
    std::optional<uint64_t> cpu_shares;       // --cpu-shares
    std::optional<int64_t> pids_limit;        // --pids-limit (-1 or 0: unlimited)
    std::optional<uint16_t> blkio_weight;     // --blkio-weight 10..1000
    std::vector<std::string> device_read_bps, device_write_bps;  // DEVICE:RATE
    bool ignore_limits = false;               // --ignore-limits (or ignore_limits in bock.conf)
};

// Uses the monitor path (create_container in lifecycle.hpp) instead of the
// foreground runtime call: -d, -i or -t.
inline bool needs_monitor(const RunRequest& r) { return r.detach || r.interactive || r.tty; }

// Returns the container's exit code (Docker's convention), or an Error whose
// exit_status is 125 (Bock failed), 126 or 127 (the command could not run).
Result<int> run_container(Context& ctx, const RunRequest& req);

// Resolves the image the user typed, creating the built-in default image
// when it is asked for and missing; prints the name chosen when it is not
// the one typed.
Result<image::ImageRecord> resolve_image(Context& ctx, const std::string& typed);

}  // namespace bock::engine
