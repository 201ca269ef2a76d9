// bock-oci as root on bundles written by `runc spec` (issue 10): an old
// default-deny seccomp profile without noNewPrivileges, joining another
// container's mount, network, ipc and uts namespaces by path,
// linux.rootfsPropagation, and the status hooks read, against crun.
#include <catch2/catch.hpp>

#include "oci_conformance.hpp"

TEST_CASE("root: bock-oci runs and execs under a seccomp profile older than openat2 and close_range",
          "[root-oci-old-seccomp]") {
    bock::test::check_old_seccomp_profile_scenario("rt-oldsc-");
}

TEST_CASE("root: bock-oci joins another container's mount, network, ipc, uts (and pid) namespaces by path",
          "[root-oci-join]") {
    bock::test::check_namespace_join_scenario("rt-join-");
}

TEST_CASE("root: bock-oci applies linux.rootfsPropagation to the container's root", "[root-oci-propagation]") {
    bock::test::check_rootfs_propagation_scenario("rt-prop-");
}

TEST_CASE("root: the status each hook reads is crun's", "[root-oci-hooks-crun]") {
    bock::test::check_hook_status_against_crun("rt-hookcrun-");
}
