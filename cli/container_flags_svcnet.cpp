// The service networks' flags of `bock run` and `bock create`
// (docs/networking.md, "Service networks").
#include "container_flags.hpp"

namespace bock::cli {

void add_svcnet_flags(CLI::App* cmd, engine::RunRequest& req) {
    cmd->add_option("--network-alias", req.network_aliases,
                    "Another name the container answers to on its service networks (repeatable)")
        ->allow_extra_args(false);
    cmd->add_option("--ip", req.ip, "The container's IPv4 address on its service network (default: the first free one)");
}

}  // namespace bock::cli
