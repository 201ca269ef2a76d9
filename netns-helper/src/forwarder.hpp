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

class Forwarder {
public:
    // Starts the thread; it joins the namespace of netns_fd, drops its
    // capabilities and sets no_new_privs before this returns.
    static Result<std::unique_ptr<Forwarder>> start(int netns_fd);
    ~Forwarder();  // stops and joins the thread

    // Thread-safe; the listener (bound, listening for TCP) is owned from then on.
    void add(int id, const Forward& f, Fd listener);
    void remove(int id);

    struct Impl;

private:
    explicit Forwarder(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace bock::netns
