#include "registry_flags.hpp"

namespace bock::cli {

std::shared_ptr<RegistryFlags> add_registry_flags(CLI::App* cmd, bool tls_verify, bool authfile) {
    auto f = std::make_shared<RegistryFlags>();
    if (tls_verify)
        cmd->add_flag("--tls-verify", f->tls_verify,
                      "Require https with verified certificates (default true; =false: http allowed, no checks)");
    cmd->add_option("--cert-dir", f->cert_dir,
                    "Directory of *.crt CA files (and *.cert/*.key client certificates) for the registry");
    if (authfile)
        cmd->add_option("--authfile", f->authfile,
                        "Auth file to use (default: $REGISTRY_AUTH_FILE, then podman's and docker's)");
    return f;
}

}  // namespace bock::cli
