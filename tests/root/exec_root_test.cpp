// bock exec, inspect, ps and health checks, as root (tests/lib/exec_scenarios.cpp).
#include <catch2/catch.hpp>

#include "exec_scenarios.hpp"

using namespace bock::test;

TEST_CASE("root: exec: env, user, workdir, exit codes, -d, -i, --privileged", "[root-exec]") { check_exec(); }
TEST_CASE("root: exec -it through a real terminal, with a resize", "[root-exec]") { check_exec_tty(); }
TEST_CASE("root: inspect and ps: Docker's fields against facts, filters, formats", "[root-inspect]") {
    check_inspect_and_ps();
}
TEST_CASE("root: health checks: starting, healthy, unhealthy, healthy; timeout; on-failure=kill", "[root-health]") {
    check_health();
}
TEST_CASE("root: the monitor's health timer: unhealthy within interval x retries; on-failure=restart restarts",
          "[root-health]") {
    check_health_timer();
}
