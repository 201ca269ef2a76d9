// bock-oci as a normal user: the sealed-memfd protection of the runtime's
// binary, no leaked fds, cwd inside the rootfs, hostile bundles refused.
#include <catch2/catch.hpp>

#include "oci_security.hpp"

TEST_CASE("bock-oci runs from a sealed memfd", "[oci-security]") {
    bock::test::check_sealed_exe_scenario("rl-sealed-");
}

TEST_CASE("bock-oci leaks no fd and keeps the cwd inside the rootfs", "[oci-security]") {
    bock::test::check_fd_and_cwd_scenario("rl-fds-");
}

TEST_CASE("bock-oci refuses hostile bundles and touches nothing outside", "[oci-hostile]") {
    bock::test::check_hostile_bundle_scenario("rl-hostile-");
}
