// bock-oci as root: the sealed-memfd protection of the runtime's binary,
// no leaked fds, cwd inside the rootfs, hostile bundles refused (as root a
// mount that escaped would land on the host's /etc).
#include <catch2/catch.hpp>

#include "oci_security.hpp"

TEST_CASE("root: bock-oci runs from a sealed memfd", "[root-oci-security]") {
    bock::test::check_sealed_exe_scenario("rt-sealed-");
}

TEST_CASE("root: bock-oci leaks no fd and keeps the cwd inside the rootfs", "[root-oci-security]") {
    bock::test::check_fd_and_cwd_scenario("rt-fds-");
}

TEST_CASE("root: bock-oci refuses hostile bundles and touches nothing outside", "[root-oci-hostile]") {
    bock::test::check_hostile_bundle_scenario("rt-hostile-");
}
