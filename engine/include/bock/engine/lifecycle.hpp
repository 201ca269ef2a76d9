// Containers that outlive the command (docs/monitor.md): create and start
// under a bock-monitor, stop, kill, wait, restart, logs, attach, the
// cleanup the monitor execs when a container ends, and `system restart`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/engine/context.hpp"
#include "bock/engine/run.hpp"

namespace bock::engine {

// `bock create` (start=false) and `bock run -d` (start=true): the
// container under a new monitor. Returns its id.
Result<std::string> create_container(Context& ctx, const RunRequest& req, bool start);

// `bock start`: releases a created container, or starts an exited one
// again under a new monitor. Nothing for a running one.
Result<std::string> start_container(Context& ctx, const std::string& key);

// `bock stop`: the stop signal, then SIGKILL after the timeout; SIGKILL at
// once when PID 1 does not catch the stop signal (SigCgt). Waits until the
// exit is recorded. The restart policy does not apply afterwards.
Result<std::string> stop_container(Context& ctx, const std::string& key, std::optional<int> timeout);

// `bock kill`: one signal to the container's PID 1.
Result<std::string> kill_container(Context& ctx, const std::string& key, int sig);

// `bock wait`: blocks until the container has exited; its exit code.
Result<int> wait_container(Context& ctx, const std::string& key);

// `bock container cleanup ID`: what the monitor execs when the container
// ended. Records the exit, unmounts the root, applies the restart policy
// (with backoff) or removes an --rm container.
Result<void> cleanup_container(Context& ctx, const std::string& id);

// `bock system restart`: starts the always / unless-stopped containers
// that are not running (after a reboot). Returns the ids started.
Result<std::vector<std::string>> restart_policy_containers(Context& ctx);

// "no", "on-failure", "on-failure:3", "always", "unless-stopped".
Result<std::pair<std::string, int>> parse_restart_policy(const std::string& text);
// "SIGTERM", "TERM", "15" -> 15.
Result<int> parse_signal_name(const std::string& text);
// "10m", "512k", "1g", "2000" -> bytes.
Result<uint64_t> parse_size(const std::string& text);

struct LogsOptions {
    bool follow = false;
    bool timestamps = false;
    std::optional<int64_t> since_ns, until_ns;
    std::optional<size_t> tail;
};
// "2026-12-06T21:00:00Z", "10m", "1733518800" -> nanoseconds since the epoch.
Result<int64_t> parse_log_time(const std::string& text);
// `bock logs`: writes the container's log to stdout/stderr by stream.
Result<void> print_logs(Context& ctx, const std::string& key, const LogsOptions& opts);

struct AttachOptions {
    bool stdin = true;
    std::string detach_keys = "ctrl-p,ctrl-q";
};
// Parses "ctrl-p,ctrl-q", "ctrl-a,d" into bytes.
Result<std::string> parse_detach_keys(const std::string& text);
// `bock attach`: stdio to the container through its monitor's socket.
// Returns the container's exit code, or nullopt when detached by the keys.
Result<std::optional<int>> attach_container(Context& ctx, const std::string& key, const AttachOptions& opts);

// `bock start -a`: attached before a created container is released.
Result<std::optional<int>> start_attached(Context& ctx, const std::string& key, const AttachOptions& opts);

// run -i / -t in the foreground: create, attach, start, wait for the exit
// (and the removal with --rm). Returns the exit code.
Result<int> run_attached(Context& ctx, const RunRequest& req, const AttachOptions& opts);

}  // namespace bock::engine
