// bock.conf (docs/config.md): defaults for every command, read once when a
// command makes its Context. TOML; /etc/bock/bock.conf first, then
// $XDG_CONFIG_HOME/bock/bock.conf (default ~/.config/bock/bock.conf), whose
// keys win; $BOCK_CONFIG names one file instead of both. Unknown keys are
// warned about with file and line; a malformed file is an error with file
// and line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "bock/common/error.hpp"

namespace bock::engine {

struct Config {
    std::vector<std::string> files;  // the files read, in order
    // [engine]
    std::string storage_driver;   // storage_driver: overlay, fuse-overlayfs, bock-fuse, vfs
    std::string registries_conf;  // registries_conf: a registries.conf to use
    bool ignore_limits = false;   // ignore_limits: run without limits cgroups cannot hold
    // [network]
    std::string default_network;  // default_network: as --network
    std::string dns_upstream;     // dns_upstream: as --dns-upstream
    // [containers]
    std::string log_size_max;     // log_size_max: as --log-opt max-size=
    // Fields for the security options' defaults (their flags come with
    // --cap-add/--security-opt/--ulimit): read and checked for type here.
    std::vector<std::string> default_capabilities;  // default_capabilities: ["CHOWN", ...]
    std::string seccomp_profile;                    // seccomp_profile: a JSON file, or "unconfined"
    std::vector<std::string> default_ulimits;       // default_ulimits: ["nofile=1024:2048", ...]
    // Where each key set came from ("FILE:LINE"), for `bock info`.
    std::vector<std::pair<std::string, std::string>> origins;
};

// Parses one file's text into `into` (keys it sets replace earlier ones);
// unknown keys go to `warnings` as "FILE:LINE: ...".
Result<void> parse_config(std::string_view text, const std::string& file, Config& into,
                          std::vector<std::string>& warnings);

// The files bock reads, in order ($BOCK_CONFIG alone when set).
std::vector<std::string> config_files();

// Reads the files that exist; warnings are logged.
Result<Config> load_config();

}  // namespace bock::engine
