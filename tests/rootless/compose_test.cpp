// bockrose / bock compose as the unprivileged test user (tests/lib/compose_scenarios.cpp).
#include <catch2/catch.hpp>

#include "compose_scenarios.hpp"

TEST_CASE("a compose project: up, idempotent up, recreate one service, down -v", "[compose]") {
    bock::test::check_compose_project();
}

TEST_CASE("compose: unhealthy and failed dependencies, cycles", "[compose]") {
    bock::test::check_compose_failures();
}

TEST_CASE("compose: up SIGKILLed converges on the next up; an attached up stops on Ctrl-C", "[compose]") {
    bock::test::check_compose_interrupted();
}

TEST_CASE("compose: create, secrets/configs/volumes_from/logging/limits, port, top, images, events, pause, wait, pull, down --rmi", "[compose]") {
    bock::test::check_compose_commands();
}
