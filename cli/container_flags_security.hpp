// The security and host-resource flags of `bock run` and `bock create`
// (cli/container_flags_security.cpp; docs/security.md).
#pragma once

#include <CLI/CLI.hpp>

#include "bock/engine/security.hpp"

namespace bock::cli {

void add_security_flags(CLI::App* cmd, engine::SecurityOptions& o);

}  // namespace bock::cli
