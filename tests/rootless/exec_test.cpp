// bock exec, inspect, ps and health checks, rootless (tests/lib/exec_scenarios.cpp).
#include <catch2/catch.hpp>

#include "exec_scenarios.hpp"

using namespace bock::test;

TEST_CASE("exec: env, user, workdir, exit codes, -d, -i, --privileged", "[exec]") { check_exec(); }
TEST_CASE("exec -it through a real terminal, with a resize", "[exec]") { check_exec_tty(); }
TEST_CASE("inspect and ps: Docker's fields against facts, filters, formats", "[inspect]") { check_inspect_and_ps(); }
TEST_CASE("health checks: starting, healthy, unhealthy, healthy; timeout; on-failure=kill", "[health]") {
    check_health();
}
TEST_CASE("the monitor's health timer: unhealthy within interval x retries; on-failure=restart restarts", "[health]") {
    check_health_timer();
}
