// The network namespace: a new one starts with `lo` down; bring it up, as
// every runtime does, so 127.0.0.1 works inside the container.
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "child.hpp"

namespace bock::runtime {

void bring_up_loopback(Child& c) {
    if (!c.plan.new_net) return;
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) child_fail(c, Step::loopback, errno);
    struct ifreq ifr;
    std::memset(&ifr, 0, sizeof ifr);
    std::memcpy(ifr.ifr_name, "lo", 3);
    if (::ioctl(s, SIOCGIFFLAGS, &ifr) < 0) child_fail(c, Step::loopback, errno);
    if (!(ifr.ifr_flags & IFF_UP)) {
        ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
        if (::ioctl(s, SIOCSIFFLAGS, &ifr) < 0) child_fail(c, Step::loopback, errno);
    }
    ::close(s);
}

}  // namespace bock::runtime
