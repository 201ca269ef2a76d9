// bock-oci run on a bundle as root; a malformed config is exit 125.
#include <catch2/catch.hpp>

#include "testlib.hpp"

TEST_CASE("root: bock-oci runs a bundle and refuses a malformed config", "[root-oci]") {
    bock::test::check_oci_run_scenario("root-");
}
