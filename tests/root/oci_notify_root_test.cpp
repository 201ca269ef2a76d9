// bock-oci as root: seccomp user notification (SCMP_ACT_NOTIFY with
// linux.seccomp.listenerPath), an agent in the test answering.
#include <catch2/catch.hpp>

#include "oci_notify.hpp"

TEST_CASE("root: bock-oci hands the seccomp notify fd to listenerPath", "[root-oci-notify]") {
    bock::test::check_oci_notify_scenario("root-");
}
