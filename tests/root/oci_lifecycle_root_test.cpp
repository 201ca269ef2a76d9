// bock-oci's lifecycle as root (the default spec: no user namespace):
// create/start/state/kill/delete/list and run --detach, as runc.
#include <catch2/catch.hpp>

#include "oci_lifecycle.hpp"

using namespace bock::test::lifecycle;

TEST_CASE("root: bock-oci create leaves the process waiting; start, kill, delete", "[root-oci-lifecycle]") {
    check_create_start("root-");
}

TEST_CASE("root: bock-oci run --detach, list, kill by name and number, delete --force", "[root-oci-lifecycle]") {
    check_detach_kill_delete("root-");
}

TEST_CASE("root: bock-oci lifecycle errors: unknown id, JSON log, refused bundles", "[root-oci-lifecycle]") {
    check_errors("root-");
}
