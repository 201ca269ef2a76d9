// `bock run`: a container from an image, in the foreground.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/engine/context.hpp"
#include "bock/engine/health.hpp"

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
    std::vector<std::string> publish;       // -p [IP:][HOST:]CONTAINER[/tcp|udp]
    std::vector<std::string> dns, dns_search, dns_option, add_host;
    std::string dns_upstream;               // --dns-upstream (else $BOCK_DNS_UPSTREAM)
    std::vector<std::string> labels;  // --label K=V (K alone: empty value)
    HealthFlags health;             // --health-*, --no-healthcheck
};

// Returns the container's exit code (Docker's convention), or an Error whose
// exit_status is 125 (Bock failed), 126 or 127 (the command could not run).
Result<int> run_container(Context& ctx, const RunRequest& req);

// Resolves the image the user typed, creating the built-in default image
// when it is asked for and missing; prints the name chosen when it is not
// the one typed.
Result<image::ImageRecord> resolve_image(Context& ctx, const std::string& typed);

}  // namespace bock::engine
