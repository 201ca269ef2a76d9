// The health-check flags `bock run` (and `bock create`) share.
#pragma once

#include <CLI/CLI.hpp>

#include "bock/engine/health.hpp"

namespace bock::cli {

// --health-cmd, --health-interval, --health-retries, --health-start-period,
// --health-timeout, --health-on-failure, --no-healthcheck into `flags`
// (which must outlive the parse).
void add_health_flags(CLI::App* cmd, engine::HealthFlags& flags);

}  // namespace bock::cli
