// bock cp, rename, prune, system df/prune, events (root; tests/lib/inspect_scenarios.cpp).
#include <catch2/catch.hpp>

#include "inspect_scenarios.hpp"

using namespace bock::test;

TEST_CASE("cp copies in and out of running and stopped containers, inside their root", "[root-cp]") { check_cp(); }
TEST_CASE("rename, container and system prune, system df against du, and the events of it all", "[root-prune]") { check_prune(); }
