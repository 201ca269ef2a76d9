// The corpus of hostile layers and a lying registry, as root.
#include <catch2/catch.hpp>

#include "hostile.hpp"

using namespace bock::test;

TEST_CASE("root: hostile layers refused or handled, nothing written outside", "[root-hostile-layers]") {
    check_hostile_corpus();
}

TEST_CASE("root: a lying registry is refused, store unchanged", "[root-hostile-layers]") {
    check_lying_registry();
}
