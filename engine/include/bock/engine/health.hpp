// Health checks (Docker's HEALTHCHECK): the configuration a container is
// created with (run flags over the image's HEALTHCHECK), stored in its
// record under "healthcheck"; one check run through `bock exec`'s path
// (`bock healthcheck run`, by hand or on the monitor's timer); the state
// it leaves in <store>/containers/<id>/health.json, written atomically:
//   {"Status": "starting|healthy|unhealthy", "FailingStreak": N,
//    "Log": [the last 5 {"Start", "End", "ExitCode", "Output"}]}
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bock/common/error.hpp"
#include "bock/engine/containers.hpp"
#include "bock/engine/context.hpp"

namespace bock::engine {

struct HealthConfig {
    std::vector<std::string> test;  // ["CMD", arg...] or ["CMD-SHELL", "command"]
    int64_t interval_ns = 30'000'000'000;
    int64_t timeout_ns = 30'000'000'000;
    int64_t start_period_ns = 0;
    int retries = 3;
    std::string on_failure = "none";  // none | kill | restart | stop

    // The record's form: {"test", "interval_ns", "timeout_ns",
    // "start_period_ns", "retries", "on_failure"}.
    nlohmann::json to_json() const;
    static Result<HealthConfig> from_json(const nlohmann::json& j);
};

// The run/create flags; unset ones come from the image, then Docker's
// defaults (30s, 30s, 0s, 3).
struct HealthFlags {
    std::optional<std::string> cmd;  // "none" disables; a JSON array is taken as the test
    std::optional<std::string> interval, timeout, start_period;
    std::optional<int> retries;
    std::string on_failure = "none";
    bool none = false;  // --no-healthcheck
};

// The container's check from the flags over the image's config
// Healthcheck ({"Test", "Interval", "Timeout", "StartPeriod", "Retries"},
// null when the image has none). nullopt: the container has no check.
// Errors name the flag.
Result<std::optional<HealthConfig>> resolve_healthcheck(const HealthFlags& flags, const nlohmann::json& image_check);

// A Go duration ("30s", "1m30s", "500ms", "2h"; "0" and "0s" too) in ns.
Result<int64_t> parse_go_duration(std::string_view text);

// The state in health.json; with a check configured and no file yet,
// {"Status": "starting", "FailingStreak": 0, "Log": []}. nullopt: no check.
std::optional<nlohmann::json> read_health(const Context& ctx, const ContainerRecord& rec);

struct HealthResult {
    bool passed = false;     // this check's command exited 0
    std::string status;      // the container's status after it
    std::string action;      // what --health-on-failure did, if anything
};

// One check of a running container: the test through exec with its
// timeout, the state updated (start period and retries honoured), and,
// when the container becomes unhealthy, --health-on-failure applied.
Result<HealthResult> run_healthcheck(Context& ctx, const std::string& container);

}  // namespace bock::engine
