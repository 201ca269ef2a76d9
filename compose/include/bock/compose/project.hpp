// What `bockrose` / `bock compose` do with a loaded project (docs/compose.md):
// its containers found by their labels, `up` converging them to the
// model, `down`, `ps`, `logs`, `stop`/`start`/`restart`/`kill`/`rm`.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/compose/model.hpp"
#include "bock/engine/containers.hpp"
#include "bock/engine/context.hpp"
#include "bock/engine/lifecycle.hpp"
#include "bock/engine/run.hpp"

namespace bock::compose {

// Docker Compose's labels, which make `up` idempotent and other tools see
// the project.
inline constexpr const char* kProjectLabel = "com.docker.compose.project";
inline constexpr const char* kServiceLabel = "com.docker.compose.service";
inline constexpr const char* kNumberLabel = "com.docker.compose.container-number";
inline constexpr const char* kOneoffLabel = "com.docker.compose.oneoff";
inline constexpr const char* kHashLabel = "com.docker.compose.config-hash";

// PROJECT-SERVICE-N (or the service's container_name).
std::string container_name(const Project& p, const Service& s, int number);

// The engine's request for container `number` of a service: the same
// strings `bock run` takes (-p, -v, --tmpfs, --network ...), so the engine
// parses them in one place. Warnings (what cannot be honoured yet) are
// appended to `warnings`.
Result<engine::RunRequest> run_request(const Project& p, const Service& s, int number, std::vector<std::string>& warnings);

// The project's containers (any state), oldest first.
Result<std::vector<engine::ContainerInfo>> project_containers(const engine::Context& ctx, const std::string& project);

struct UpOptions {
    std::vector<std::string> services;  // empty: all
    bool detach = false;
    bool build = false;             // --build: build images first
    bool force_recreate = false;
    bool no_recreate = false;
    bool no_deps = false;
    bool remove_orphans = false;
    bool wait = false;              // --wait: until running/healthy
    int wait_timeout = 0;           // seconds; 0: none
    bool abort_on_container_exit = false;
    std::string exit_code_from;     // --exit-code-from SERVICE
    bool no_start = false;          // `create`: containers made, not started (nor waited on)
};
// Returns the exit status for the CLI (0, or the exit code of the
// container that ended a foreground `up`).
Result<int> up(engine::Context& ctx, const Project& p, const UpOptions& opts);

// What up does before starting containers, for the given services: their
// images built (always with `build`, else when missing), their networks
// and named volumes created.
Result<void> prepare_resources(engine::Context& ctx, const Project& p, const std::vector<std::string>& services, bool build);

// `run [--rm] [-d] [-e K=V] [--entrypoint E] [--name N] [--no-deps] [-T] SERVICE [CMD...]`:
// a one-off container of the service (PROJECT-SERVICE-run-XXXXXX, label
// oneoff=True, no published ports, no service alias), its dependencies
// started first. Returns its exit code (0 with -d).
struct RunOptions {
    std::string service;
    std::vector<std::string> command;   // replaces the service's command when not empty
    std::optional<std::string> entrypoint;
    std::vector<std::string> env;       // K=V
    std::optional<std::string> name;
    bool remove = false, detach = false, no_deps = false, terminal = false;
};
Result<int> run_oneoff(engine::Context& ctx, const Project& p, const RunOptions& opts);

struct DownOptions {
    bool volumes = false;           // -v: the project's named volumes too
    bool remove_orphans = false;
    std::optional<int> timeout;     // -t: seconds instead of each service's grace period
    std::string rmi;                // --rmi all (every service's image) | local (the built ones); empty: none
};
Result<void> down(engine::Context& ctx, const Project& p, const DownOptions& opts);

// stop (in reverse dependency order, each level in parallel), start,
// restart, kill, rm of the selected services' containers.
Result<void> stop(engine::Context& ctx, const Project& p, const std::vector<std::string>& services, std::optional<int> timeout);
Result<void> start(engine::Context& ctx, const Project& p, const std::vector<std::string>& services);
Result<void> kill(engine::Context& ctx, const Project& p, const std::vector<std::string>& services, int sig);
Result<void> remove(engine::Context& ctx, const Project& p, const std::vector<std::string>& services, bool force);

// `ps [-a] [--format json]`.
Result<void> print_ps(engine::Context& ctx, const Project& p, const std::vector<std::string>& services, bool all, bool json);

// `logs [-f] [--tail N] [-t] [SERVICE...]`: every container's log, each line
// prefixed with the container's name; -f until they have all stopped.
Result<void> print_logs(engine::Context& ctx, const Project& p, const std::vector<std::string>& services,
                        const engine::LogsOptions& opts);

// ops.cpp: the commands that map onto one engine operation each.
// pause / unpause the selected services' running containers.
Result<void> pause(engine::Context& ctx, const Project& p, const std::vector<std::string>& services, bool freeze);
// `top`: each running container's processes, under its name.
Result<void> print_top(engine::Context& ctx, const Project& p, const std::vector<std::string>& services);
// `port SERVICE PRIVATE_PORT [--protocol P] [--index N]`: the host address it is published on.
Result<void> print_port(engine::Context& ctx, const Project& p, const std::string& service, const std::string& private_port,
                        const std::string& protocol, int index);
// `images`: the image of each container.
Result<void> print_images(engine::Context& ctx, const Project& p, const std::vector<std::string>& services);
// `wait`: until the containers have exited, printing each exit code;
// returns the first non-zero one.
Result<int> wait(engine::Context& ctx, const Project& p, const std::vector<std::string>& services);
// `pull`: the services' images (those with `image:`), all at once.
Result<void> pull(engine::Context& ctx, const Project& p, const std::vector<std::string>& services, bool ignore_failures);
// `push`: the services' images (those with `image:`) to their registries.
Result<void> push(engine::Context& ctx, const Project& p, const std::vector<std::string>& services);
// `events [--json]`: the engine's events of the project's containers
// (until interrupted with follow).
Result<void> print_events(engine::Context& ctx, const Project& p, bool json, bool follow);

}  // namespace bock::compose
