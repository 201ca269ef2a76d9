// podman (rootless, as the test user) with runc and with bock-oci as its
// OCI runtime: the same scenario passes with both.
#include <catch2/catch.hpp>

#include "podman.hpp"

using namespace bock::test;

TEST_CASE("rootless podman with runc: run, run -d + exec + stop + rm, -it", "[podman]") {
    podman::check_podman_runtime("/usr/sbin/runc", "pm-runc", {});
}

TEST_CASE("rootless podman with bock-oci: run, run -d + exec + stop + rm, -it", "[podman]") {
    podman::check_podman_runtime(bin("bock-oci"), "pm-bock", {});
}
