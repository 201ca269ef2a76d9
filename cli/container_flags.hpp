// The flags `bock run` and `bock create` share (cli/container_flags.cpp).
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "bock/engine/run.hpp"

namespace bock::cli {

struct ContainerFlags {
    engine::RunRequest req;
    std::string pull = "missing";
    std::string cidfile;
    std::string detach_keys = "ctrl-p,ctrl-q";
    CLI::Option *workdir = nullptr, *user = nullptr, *hostname = nullptr, *entrypoint = nullptr, *name = nullptr,
                *stop_signal = nullptr, *stop_timeout = nullptr;
};

// --network-alias, --ip (cli/container_flags_svcnet.cpp).
void add_svcnet_flags(CLI::App* cmd, engine::RunRequest& req);

// Adds the flags; `run` also gets -d and --detach-keys.
std::shared_ptr<ContainerFlags> add_container_flags(CLI::App* cmd, bool run);

// -v, --mount, --tmpfs, --volumes-from (cli/container_flags_volumes.cpp).
void add_volume_flags(CLI::App* cmd, engine::RunRequest& req);
// --userns/--uidmap/--gidmap and the resource limits (container_flags_userns.cpp).
void add_userns_limit_flags(CLI::App* cmd, engine::RunRequest& req);

// After parsing: IMAGE and its arguments from what is left, the optional
// values into the request. Returns an exit code (0: go on).
int finish_container_flags(CLI::App* cmd, ContainerFlags& f, const char* verb);

// --cidfile: the id written to a new file (an existing one is refused, as Docker).
Result<void> write_cidfile(const std::string& path, const std::string& id);

}  // namespace bock::cli
