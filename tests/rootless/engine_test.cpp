// The engine's container record and the store's leases, rootless
// (tests/lib/engine_scenarios.cpp).
#include <catch2/catch.hpp>

#include "engine_scenarios.hpp"

using namespace bock::test;

TEST_CASE("a SIGKILLed bock run shows as exited and bock rm cleans it", "[engine]") { check_killed_run_is_reconciled(); }
TEST_CASE("bock rm -f removes a running container", "[engine]") { check_rm_force_running(); }
TEST_CASE("gc refuses when a lease cannot be read", "[engine]") { check_gc_fails_closed(); }
TEST_CASE("a store from the previous version keeps in-use layers", "[engine]") { check_old_store_keeps_layers(); }
