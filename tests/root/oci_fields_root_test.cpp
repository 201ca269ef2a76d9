// bock-oci as root: process/linux fields seen by the probe (oomScoreAdj,
// ioPriority, scheduler, personality, time namespace offsets), `features`,
// `--version`, and the configs of `spec` and `spec --rootless` run.
#include <catch2/catch.hpp>

#include "oci_fields.hpp"

TEST_CASE("root: bock-oci applies oomScoreAdj, ioPriority, scheduler, personality, timeOffsets",
          "[root-oci-fields]") {
    bock::test::check_process_fields_scenario("rt-fields-");
}

TEST_CASE("root: bock-oci features, --version, and spec configs that run", "[root-oci-fields]") {
    bock::test::check_features_scenario("rt-features-");
}

TEST_CASE("root: bock-oci runs hooks where and when the spec says", "[root-oci-hooks]") {
    bock::test::check_hooks_scenario("rt-hooks-");
}

TEST_CASE("root: bock-oci mount options: nosymfollow, tmpfs size/mode, file binds, idmap", "[root-oci-mounts]") {
    bock::test::check_mount_options_scenario("rt-mounts-");
}
