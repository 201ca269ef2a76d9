// Bockfile builds, outputs, shared caches, bock-runtime (rootless;
// tests/lib/bockfile_scenarios.cpp).
#include <catch2/catch.hpp>

#include "bockfile_scenarios.hpp"

using namespace bock::test;

TEST_CASE("the builder corpus as Bockfiles builds the same images", "[bockfile]") { check_bockfile_equals_containerfile(); }
TEST_CASE("Bockfile errors at file:line:column; security labels applied by run", "[bockfile]") { check_bockfile_errors_and_security(); }
TEST_CASE("build outputs, --push, --cache-to/--cache-from, bock-runtime", "[bockfile]") { check_build_outputs_and_shared_cache(); }
