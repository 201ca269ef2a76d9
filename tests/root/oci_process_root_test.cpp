// bock-oci as root: the process settings of config.json as the probe sees
// them (capabilities, seccomp, masked/read-only paths, rlimits,
// no_new_privs, hostname, no user namespace).
#include <catch2/catch.hpp>

#include "oci_process.hpp"

TEST_CASE("root: bock-oci applies capabilities, seccomp, paths, limits as configured", "[root-oci-process]") {
    bock::test::check_oci_process_scenario("root-proc-");
}
