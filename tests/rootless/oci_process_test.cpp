// bock-oci as a normal user: the process settings of config.json as the
// probe sees them (capabilities, seccomp, masked/read-only paths, rlimits,
// no_new_privs, hostname, the user's own id mapped to 0).
#include <catch2/catch.hpp>

#include "oci_process.hpp"

TEST_CASE("bock-oci applies capabilities, seccomp, paths, limits as configured", "[oci-process]") {
    bock::test::check_oci_process_scenario("rootless-proc-");
}
