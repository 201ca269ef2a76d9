#include "bock/common/mount.hpp"

#include <sys/mount.h>

#include <cerrno>
#include <cstring>

#include "bock/common/log.hpp"

namespace bock {

void ScopedMount::reset() {
    if (target_.empty()) return;
    if (::umount2(target_.c_str(), MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
        log::debug("unmount `{}`: {}", target_, std::strerror(errno));
    target_.clear();
}

}  // namespace bock
