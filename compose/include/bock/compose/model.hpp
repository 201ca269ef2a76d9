// A Compose project as bockrose reads it (docs/compose.md): the files
// found and merged, interpolated, and turned into typed services, volumes
// and networks. load_project() is the one way in (load.cpp); to_json()
// is the normalised model `config` prints and the config hash is taken of.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bock/common/error.hpp"

namespace bock::compose {

struct BuildSpec {
    std::string context = ".";  // absolute after loading
    std::string dockerfile;     // relative to the context; empty: the builder's default
    std::string target;
    std::map<std::string, std::string> args;
};

struct DependsOn {
    std::string condition = "service_started";  // service_started | service_healthy | service_completed_successfully
    bool restart = false;
    bool required = true;
};

struct Mount {
    std::string type;    // volume | bind | tmpfs
    std::string source;  // volume: its key in the project; bind: absolute path; empty for tmpfs and anonymous volumes
    std::string target;
    bool read_only = false;
};

struct NetworkAttach {
    std::vector<std::string> aliases;
    std::string ipv4_address;
};

struct Healthcheck {
    std::vector<std::string> test;  // ["CMD", ...], ["CMD-SHELL", "..."]; empty with disable
    std::string interval, timeout, start_period;  // Go durations; empty: the default
    std::optional<int> retries;
    bool disable = false;
};

struct Service {
    std::string name;
    std::string image;  // empty with build only: PROJECT-SERVICE is built
    std::optional<BuildSpec> build;
    std::optional<std::vector<std::string>> command, entrypoint;
    // An unset value (`- FOO`, `FOO:` with no value) comes from bockrose's environment.
    std::map<std::string, std::optional<std::string>> environment;
    std::vector<std::string> ports;  // [IP:][HOST:]CONTAINER[/PROTO], as `bock run -p` takes them
    std::vector<std::string> expose;
    std::vector<Mount> volumes;
    std::map<std::string, NetworkAttach> networks;  // project network keys; empty: {default}
    std::string network_mode;                       // none | host | service:S | container:C
    std::map<std::string, DependsOn> depends_on;
    std::optional<Healthcheck> healthcheck;
    std::string restart = "no";
    std::string user, working_dir, hostname;
    std::map<std::string, std::string> labels;
    std::vector<std::string> cap_add, cap_drop, tmpfs, dns, extra_hosts;
    // As `bock run` takes them: --dns-search, --dns-option, --sysctl K=V,
    // --ulimit NAME=SOFT[:HARD], --device, --group-add, --security-opt.
    std::vector<std::string> dns_search, dns_opt, sysctls, ulimits, devices, group_add, security_opt;
    std::string shm_size, pid, ipc;
    bool read_only = false, init = false, tty = false, stdin_open = false, privileged = false;
    std::string stop_signal;                 // empty: SIGTERM
    std::optional<int> stop_grace_period;    // seconds; empty: 10
    int replicas = 1;                        // deploy.replicas (scale)
    // deploy.resources.limits, as `bock run` takes them (--memory, --cpus,
    // --pids-limit): the same refusal where they cannot hold.
    std::string mem_limit, cpus;
    std::optional<int64_t> pids_limit;
    std::string log_driver;                  // logging.driver; empty: the engine's default
    std::map<std::string, std::string> log_opts;  // logging.options
    // volumes_from: service:S / S (its first container) or container:C,
    // with an optional :ro / :rw; S is also started first.
    std::vector<std::string> volumes_from;
    std::vector<std::string> profiles;       // empty: always enabled

    nlohmann::json to_json() const;
    // sha256 hex of to_json()'s text: what com.docker.compose.config-hash holds.
    std::string config_hash() const;
    // The image a container runs: `image`, else PROJECT-SERVICE (built).
    std::string image_name(const std::string& project) const;
};

struct VolumeDecl {
    std::string name;  // the engine's volume name: PROJECT_KEY, `name:`, or the key when external
    bool external = false;
    std::map<std::string, std::string> labels;
};

struct NetworkDecl {
    std::string name;  // PROJECT_KEY, `name:`, or the key when external
    bool external = false;
    bool internal = false;
    std::map<std::string, std::string> labels;
};

struct Project {
    std::string name;
    std::string directory;           // absolute
    std::vector<std::string> files;  // absolute, in merge order
    std::map<std::string, Service> services;
    std::map<std::string, VolumeDecl> volumes;
    std::map<std::string, NetworkDecl> networks;  // always holds `default` unless every service uses network_mode
    // Top-level secrets and configs: their files (absolute). A service's
    // `secrets` / `configs` become read-only binds in its volumes.
    std::map<std::string, std::string> secrets, configs;
    // `bockrose --ignore-limits`: deploy.resources.limits that cannot be
    // enforced here are dropped with a warning (as `bock run --ignore-limits`).
    bool ignore_limits = false;

    nlohmann::json to_json() const;
};

struct LoadOptions {
    std::vector<std::string> files;        // -f (and COMPOSE_FILE, ':'-separated); empty: the default names
    std::string project_name;              // -p
    std::string project_directory;         // --project-directory; empty: the first file's directory
    std::vector<std::string> env_files;    // --env-file; empty: PROJECT_DIR/.env if it exists
    std::string working_directory = ".";   // where the default names are looked for
    std::vector<std::string> profiles;     // --profile (COMPOSE_PROFILES is added to them)
    std::vector<std::string> named;        // services named on the command line: enabled whatever their profiles
};

// A JSON value as block YAML (what `config` prints by default).
std::string to_yaml(const nlohmann::json& j);

// Finds, reads, merges and interpolates the files; the project with its
// services. Unknown keys are warned about (file:line); errors name the file
// and the key.
Result<Project> load_project(const LoadOptions& opts);

// The project name rule: lowercase, only [a-z0-9_-], starting with a
// letter or digit ("My App" -> "myapp").
std::string normalise_project_name(const std::string& raw);

// Compose's interpolation of one value: ${VAR}, ${VAR:-default},
// ${VAR-default}, ${VAR:?error}, ${VAR?error}, $VAR and $$ (a literal $).
// `lookup` returns nullopt for an unset variable. Errors name the variable
// (and carry the ?error text).
using Lookup = std::function<std::optional<std::string>(const std::string&)>;
Result<std::string> interpolate(std::string_view text, const Lookup& lookup);

// KEY=VALUE lines of a .env file: # comments, blank lines, `export `,
// single and double quotes.
Result<std::map<std::string, std::string>> read_dotenv(const std::string& path);

// A command given as a string, split as a POSIX shell would split words
// (quotes and backslashes; no expansion).
Result<std::vector<std::string>> split_command(const std::string& text);

// The service a volumes_from entry names (`S`, `service:S`, with an
// optional `:ro`/`:rw`); "" for `container:C`.
std::string volumes_from_service(const std::string& entry);

// The services in dependency order (a service after everything it
// depends on), grouped in levels whose services may start together. A
// cycle is refused, naming it ("a -> b -> a").
Result<std::vector<std::vector<std::string>>> start_levels(const Project& p, const std::vector<std::string>& selected);

}  // namespace bock::compose
