// podman as root with runc and with bock-oci as its OCI runtime: the same
// scenario passes with both.
//
// This machine's root lacks CAP_SYS_RESOURCE, so podman's default rlimits
// (raised hard limits for nofile and nproc) fail with EPERM even with runc;
// explicit limits that do not raise the hard limit work with every runtime.
#include <catch2/catch.hpp>

#include "podman.hpp"

using namespace bock::test;

namespace {
const std::vector<std::string> kUlimits = {"--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768"};
}

TEST_CASE("root: podman with runc: run, run -d + exec + stop + rm, -it", "[root-podman]") {
    podman::check_podman_runtime("/usr/sbin/runc", "pm-runc", kUlimits);
}

TEST_CASE("root: podman with bock-oci: run, run -d + exec + stop + rm, -it", "[root-podman]") {
    podman::check_podman_runtime(bin("bock-oci"), "pm-bock", kUlimits);
}
