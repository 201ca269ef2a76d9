// bock-oci's lifecycle as a normal user (a `bock-oci spec --rootless`
// bundle: a new user namespace with the user's own id): create leaves the
// process blocked before exec, start releases it, state/kill/delete/list
// and run --detach as runc; errors are exit 1, JSON lines with --log.
#include <catch2/catch.hpp>

#include "oci_lifecycle.hpp"

using namespace bock::test::lifecycle;

TEST_CASE("bock-oci create leaves the process waiting; start, kill, delete", "[oci-lifecycle]") {
    check_create_start("rl-");
}

TEST_CASE("bock-oci run --detach, list, kill by name and number, delete --force", "[oci-lifecycle]") {
    check_detach_kill_delete("rl-");
}

TEST_CASE("bock-oci lifecycle errors: unknown id, JSON log, refused bundles", "[oci-lifecycle]") {
    check_errors("rl-");
}
