// Bockfile builds, outputs, shared caches, bock-runtime as root
// (tests/lib/bockfile_scenarios.cpp).
#include <catch2/catch.hpp>

#include "bockfile_scenarios.hpp"

using namespace bock::test;

TEST_CASE("root: the builder corpus as Bockfiles builds the same images", "[root-bockfile]") { check_bockfile_equals_containerfile(); }
TEST_CASE("root: Bockfile errors at file:line:column; security labels applied by run", "[root-bockfile]") {
    check_bockfile_errors_and_security();
}
TEST_CASE("root: build outputs, --push, --cache-to/--cache-from, bock-runtime", "[root-bockfile]") {
    check_build_outputs_and_shared_cache();
}
