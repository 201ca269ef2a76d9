// bockrose / bock compose as root (tests/lib/compose_scenarios.cpp): the
// same scenarios as the rootless suite.
#include <catch2/catch.hpp>

#include "compose_scenarios.hpp"

TEST_CASE("root: a compose project: up, idempotent up, recreate one service, down -v", "[root-compose]") {
    bock::test::check_compose_project();
}

TEST_CASE("root: compose: unhealthy and failed dependencies, cycles", "[root-compose]") {
    bock::test::check_compose_failures();
}

TEST_CASE("root: compose: up SIGKILLed converges on the next up; an attached up stops on Ctrl-C", "[root-compose]") {
    bock::test::check_compose_interrupted();
}

TEST_CASE("compose: create, secrets/configs/volumes_from/logging/limits, port, top, images, events, pause, wait, pull, down --rmi", "[root-compose]") {
    bock::test::check_compose_commands();
}
