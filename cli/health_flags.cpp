#include "health_flags.hpp"

namespace bock::cli {

void add_health_flags(CLI::App* cmd, engine::HealthFlags& f) {
    cmd->add_option_function<std::string>("--health-cmd", [&f](const std::string& v) { f.cmd = v; },
                                          "Health check command (a shell command, a JSON array, or none)");
    cmd->add_option_function<std::string>("--health-interval", [&f](const std::string& v) { f.interval = v; },
                                          "Time between health checks (default 30s)");
    cmd->add_option_function<int>("--health-retries", [&f](int v) { f.retries = v; },
                                  "Consecutive failures before unhealthy (default 3)");
    cmd->add_option_function<std::string>("--health-start-period", [&f](const std::string& v) { f.start_period = v; },
                                          "Time after start when failures do not count (default 0s)");
    cmd->add_option_function<std::string>("--health-timeout", [&f](const std::string& v) { f.timeout = v; },
                                          "Time a check may run before it fails (default 30s)");
    cmd->add_option("--health-on-failure", f.on_failure, "When unhealthy: none (default), kill, restart or stop")
        ->check(CLI::IsMember({"none", "kill", "restart", "stop"}));
    cmd->add_flag("--no-healthcheck", f.none, "Disable the image's health check");
}

}  // namespace bock::cli
