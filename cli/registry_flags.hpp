// The registry access flags shared by pull, push and login:
// --tls-verify, --cert-dir, --authfile (podman's names and meanings).
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

namespace bock::cli {

struct RegistryFlags {
    bool tls_verify = true;
    std::string cert_dir;
    std::string authfile;
};

// Adds the flags to `cmd`; --tls-verify only when `tls_verify` is true
// (pull declares its own).
std::shared_ptr<RegistryFlags> add_registry_flags(CLI::App* cmd, bool tls_verify = true, bool authfile = true);

}  // namespace bock::cli
