// The corpus of hostile layers and a lying registry, as the rootless user.
#include <catch2/catch.hpp>

#include "hostile.hpp"

using namespace bock::test;

TEST_CASE("hostile layers: refused or handled, nothing written outside, store unchanged", "[hostile-layers]") {
    check_hostile_corpus();
}

TEST_CASE("a lying registry: digest, size and diff_id lies refused, store unchanged", "[hostile-layers]") {
    check_lying_registry();
}
