// bock-oci run on a bundle as a normal user: its own user namespace with
// the user's id mapped; a malformed config is one error line and exit 125.
#include <catch2/catch.hpp>

#include "testlib.hpp"

TEST_CASE("bock-oci runs a bundle and refuses a malformed config", "[oci]") {
    bock::test::check_oci_run_scenario("rootless-");
}
