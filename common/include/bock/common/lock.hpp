// flock(2)-based locks on a file. When the lock is busy, say once who we are
// waiting for, then block: a user should never stare at a silent hang.
#pragma once

#include <string>

#include "bock/common/error.hpp"
#include "bock/common/fd.hpp"

namespace bock {

class FileLock {
public:
    enum class Mode { shared, exclusive };
    // Creates the lock file if needed. `what` names the resource in the
    // "waiting for ..." message (e.g. "the image store /var/lib/bock").
    static Result<FileLock> acquire(const std::string& path, Mode mode, const std::string& what);
    // Non-blocking: nullopt-like empty lock when busy (held() == false).
    static Result<FileLock> try_acquire(const std::string& path, Mode mode);
    bool held() const { return fd_.valid(); }
    void release() { fd_.reset(); }

private:
    Fd fd_;
};

}  // namespace bock
