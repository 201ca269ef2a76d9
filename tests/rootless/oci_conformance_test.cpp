// bock-oci as a normal user on bundles written by `runc spec --rootless`
// (issue 10): an old default-deny seccomp profile without
// noNewPrivileges, joining another container's namespaces by path with
// its user namespace, and linux.rootfsPropagation.
#include <catch2/catch.hpp>

#include "oci_conformance.hpp"

TEST_CASE("bock-oci runs and execs under a seccomp profile older than openat2 and close_range",
          "[oci-old-seccomp]") {
    bock::test::check_old_seccomp_profile_scenario("rl-oldsc-");
}

TEST_CASE("bock-oci joins another container's user, mount, network, ipc, uts and pid namespaces by path",
          "[oci-join]") {
    bock::test::check_namespace_join_scenario("rl-join-");
}

TEST_CASE("bock-oci applies linux.rootfsPropagation to the container's root", "[oci-propagation]") {
    bock::test::check_rootfs_propagation_scenario("rl-prop-");
}

TEST_CASE("the status each hook reads is crun's", "[oci-hooks-crun]") {
    bock::test::check_hook_status_against_crun("rl-hookcrun-");
}
