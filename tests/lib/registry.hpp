// A private docker-registry (distribution 2.8) for one test: listening on
// 127.0.0.1 at a free port, storing under the test's scratch dir, killed
// when the guard goes out of scope (and, through setpriv --pdeathsig, when
// the test process dies). Images are published to it with skopeo.
// Options: htpasswd Basic auth, the Bearer token flow (a token server the
// test runs: tests/lib/token_server.py), https with a self-signed
// certificate trusted through cert_dir().
#pragma once

#include <string>
#include <vector>

#include "bock/common/pid.hpp"

namespace bock::test {

struct RegistryOptions {
    // Non-empty: the registry wants these credentials (htpasswd Basic auth,
    // or the token server's account when `token`).
    std::string user;
    std::string password;
    bool token = false;  // Bearer tokens from token_server.py instead of Basic
    bool tls = false;    // https with a self-signed certificate for 127.0.0.1
};

class LocalRegistry {
public:
    // Starts the registry and waits until GET /v2/ answers; skips the test
    // when docker-registry or skopeo is missing.
    LocalRegistry() : LocalRegistry(RegistryOptions{}) {}
    explicit LocalRegistry(RegistryOptions opts);
    ~LocalRegistry();
    LocalRegistry(const LocalRegistry&) = delete;
    LocalRegistry& operator=(const LocalRegistry&) = delete;

    int port() const { return port_; }
    std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
    // Copies an archive (oci-archive) to host()/NAME:TAG with skopeo.
    void publish(const std::string& archive, const std::string& name_tag) const;
    // The manifest digest skopeo inspect reports for host()/NAME:TAG.
    std::string digest_of(const std::string& name_tag) const;
    // skopeo with this registry's credentials/certificates added after the
    // subcommand (args[0]): e.g. {"inspect", "docker://" + host() + "/x:1"}.
    struct SkopeoRun {
        int code;
        std::string out, err;
    };
    SkopeoRun skopeo(std::vector<std::string> args) const;
    // A directory holding ca.crt (with tls), for --cert-dir.
    const std::string& cert_dir() const { return cert_dir_; }
    // The token server's request log (one line per token request).
    std::string token_log() const;
    const std::string& dir() const { return dir_; }

private:
    bool try_start(int attempt);
    std::string auth_config();  // the YAML `auth:` section (starts the token server)
    RegistryOptions opts_;
    Pid token_pid_;
    std::string token_port_file_;
    std::string cert_dir_;
    Pid pid_;
    int port_ = 0;
    std::string dir_;
};

// A TCP port on 127.0.0.1 that is closed (bound then released).
int closed_port();

// A self-signed certificate for 127.0.0.1 (openssl CLI): writes
// DIR/cert.pem and DIR/key.pem.
void make_self_signed(const std::string& dir);

}  // namespace bock::test

namespace bock::test {

// Builds an OCI archive with bock-mkimage (busybox + the layer specs, see
// tests/fixtures/mkimage.cpp) without loading it; for LocalRegistry::publish.
std::string fixture_archive(const std::string& name, const std::vector<std::string>& layer_specs,
                            const std::vector<std::string>& cmd);

}  // namespace bock::test
