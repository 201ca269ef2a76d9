// A private docker-registry (distribution 2.8) for one test: listening on
// 127.0.0.1 at a free port, storing under the test's scratch dir, killed
// when the guard goes out of scope (and, through setpriv --pdeathsig, when
// the test process dies). Images are published to it with skopeo.
#pragma once

#include <string>

#include "bock/common/pid.hpp"

namespace bock::test {

class LocalRegistry {
public:
    // Starts the registry and waits until GET /v2/ answers; skips the test
    // when docker-registry or skopeo is missing.
    LocalRegistry();
    ~LocalRegistry();
    LocalRegistry(const LocalRegistry&) = delete;
    LocalRegistry& operator=(const LocalRegistry&) = delete;

    int port() const { return port_; }
    std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
    // Copies an archive (oci-archive) to host()/NAME:TAG with skopeo.
    void publish(const std::string& archive, const std::string& name_tag) const;
    // The manifest digest skopeo inspect reports for host()/NAME:TAG.
    std::string digest_of(const std::string& name_tag) const;

private:
    bool try_start(int attempt);
    Pid pid_;
    int port_ = 0;
    std::string dir_;
};

// A TCP port on 127.0.0.1 that is closed (bound then released).
int closed_port();

}  // namespace bock::test
