// The engine's container record and the store's leases, as root
// (tests/lib/engine_scenarios.cpp).
#include <catch2/catch.hpp>

#include "engine_scenarios.hpp"

using namespace bock::test;

TEST_CASE("root: a SIGKILLed bock run shows as exited and bock rm cleans it", "[root-engine]") {
    check_killed_run_is_reconciled();
}
TEST_CASE("root: bock rm -f removes a running container", "[root-engine]") { check_rm_force_running(); }
TEST_CASE("root: gc refuses when a lease cannot be read", "[root-engine]") { check_gc_fails_closed(); }
TEST_CASE("root: a store from the previous version keeps in-use layers", "[root-engine]") {
    check_old_store_keeps_layers();
}
