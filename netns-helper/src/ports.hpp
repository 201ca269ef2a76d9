// The table of published ports: binds each host listener (in the host's
// network namespace, i.e. on the main thread) with errors a user can act
// on, and hands it to the Forwarder.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/common/fd.hpp"
#include "bock/netns/options.hpp"

namespace bock::netns {

class Forwarder;

// net.ipv4.ip_unprivileged_port_start of the calling thread's namespace,
// -1 when unreadable. Read once at start: the sandbox hides /proc.
int read_unprivileged_port_start();

// A bound (and, for TCP, listening) non-blocking host socket for f.
Result<Fd> bind_published(const Forward& f, int unprivileged_port_start);

struct PublishedPort {
    int id;
    Forward f;
    std::string owner;  // the API's `owner` (a container id), may be empty
    pid_t watch_pid = 0;  // removed when this process exits (the API's `watch_pid`)
};

class Ports {
public:
    explicit Ports(int unprivileged_port_start) : port_start_(unprivileged_port_start) {}
    // Listeners bound before the forwarder exists are queued until attach().
    void attach(Forwarder* fw);
    Result<int> add(const Forward& f, const std::string& owner = {}, pid_t watch_pid = 0);
    Result<void> remove(int id);
    // Every forward of `owner` (with watch_pid, only those watching it);
    // how many were removed.
    int remove_owner(const std::string& owner, pid_t watch_pid = 0);
    // Every forward watching `pid` (it exited).
    void remove_watching(pid_t pid);
    const std::vector<PublishedPort>& list() const { return ports_; }

private:
    int port_start_;
    Forwarder* fw_ = nullptr;
    int next_id_ = 1;
    std::vector<PublishedPort> ports_;
    std::vector<std::pair<int, Fd>> waiting_;  // (id, listener) before attach()
};

std::string describe(const Forward& f);  // "127.0.0.1:8080 -> 80/tcp"

}  // namespace bock::netns
