// The engine's side of a container's network: the files it sees
// (/etc/resolv.conf, /etc/hosts, /etc/hostname) and the bock-netns helper
// attached to its network namespace (docs/netns-helper.md, "Engine
// checklist").
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/common/fd.hpp"
#include "bock/common/pid.hpp"
#include "bock/engine/network.hpp"
#include "bock/runtime/spec.hpp"

namespace bock::engine {

struct NetworkFiles {
    std::vector<std::string> dns;  // nameservers (default 10.0.2.3 with slirp4netns)
    std::vector<std::string> dns_search, dns_option, add_host;  // add_host: NAME:IP
    std::string hostname;
    bool host_loopback = false;  // host.containers.internal -> 10.0.2.2
};

// Writes resolv.conf, hosts and hostname into `dir` and adds bind mounts of
// them onto the spec.
Result<void> write_network_files(const std::string& dir, const NetworkFiles& f, runtime::Spec& spec);

struct HelperOptions {
    std::string api_socket;
    std::string log;  // the helper's stderr
    std::string dns_upstream;
    bool allow_host_loopback = false;
    std::vector<PortMapping> ports;
};

// A running bock-netns. Closing `exit_w` stops it; the destructor does that,
// reaps it (killing it after a while) and removes its API socket.
class NetnsHelper {
public:
    NetnsHelper() = default;
    NetnsHelper(NetnsHelper&&) = default;
    NetnsHelper& operator=(NetnsHelper&&) = default;
    ~NetnsHelper() { stop(); }
    // Starts it for the network namespace of `pid` and waits (10 s at most)
    // for it to be ready; the error carries the helper's stderr.
    static Result<NetnsHelper> start(pid_t pid, const HelperOptions& opts);
    void stop();
    bool running() const { return pid_.valid(); }

private:
    Pid pid_;
    Fd exit_w_;
    std::string api_socket_;
};

}  // namespace bock::engine
