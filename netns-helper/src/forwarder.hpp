// Published ports' data path, as pasta does it: the helper listens on the
// host; for each client it opens a socket INSIDE the container's network
// namespace, bound to the client's own address when the client is on the
// host's loopback (127.0.0.0/8 and ::1 are local inside the namespace too),
// connects to 127.0.0.1:PORT (or ::1) there, and splices bytes both ways.
// slirp is not on this path at all.
//
// One thread does it all, with epoll: it joined the container's network
// namespace at start (setns is per thread for network namespaces), so every
// socket it creates lives there; listeners are created by the main thread,
// in the host's namespace, and handed over.
#pragma once

#include <memory>

#include "bock/common/error.hpp"
#include "bock/common/fd.hpp"
#include "bock/netns/options.hpp"

namespace bock::netns {

//
// The same machinery runs the other way for the container's connections to
// the host's loopback (10.0.2.2 with --allow-host-loopback): a redirect rule
// in the container's namespace sends them to a listener there, and a second
// Forwarder, staying in the host's namespace, connects to 127.0.0.1 at the
// original destination port (SO_ORIGINAL_DST). See outbound.hpp.
class Forwarder {
public:
    // Starts the thread; it joins the namespace of netns_fd (none when -1),
    // drops its capabilities and sets no_new_privs before this returns.
    static Result<std::unique_ptr<Forwarder>> start(int netns_fd);
    // The same in two steps, so that several threads start side by side.
    // A launched Forwarder must be waited for before anything else. With
    // handoff_fd (a pipe's read end, kept open until wait_started), the
    // thread first reads the namespace's fd from it (an int), so that it
    // can be started before the namespace exists; EOF: wait_started fails.
    static Result<std::unique_ptr<Forwarder>> launch(int netns_fd, int handoff_fd = -1);
    Result<void> wait_started();
    ~Forwarder();  // stops and joins the thread

    enum class Target {
        container_loopback,   // 127.0.0.1 / ::1 at f.container_port, from the client's address
        original_destination  // 127.0.0.1 at the port the client meant to reach on 10.0.2.2
    };
    // Thread-safe; the listener (bound, listening for TCP) is owned from then on.
    void add(int id, const Forward& f, Fd listener, Target target = Target::container_loopback);
    void remove(int id);

    struct Impl;

private:
    explicit Forwarder(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace bock::netns
