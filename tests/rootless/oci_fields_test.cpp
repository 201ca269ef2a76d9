// bock-oci as a normal user: process/linux fields seen by the probe
// (oomScoreAdj, ioPriority, scheduler, personality, time namespace
// offsets), `features`, `--version`, and the configs of `spec` run.
#include <catch2/catch.hpp>

#include "oci_fields.hpp"

TEST_CASE("bock-oci applies oomScoreAdj, ioPriority, scheduler, personality, timeOffsets", "[oci-fields]") {
    bock::test::check_process_fields_scenario("rl-fields-");
}

TEST_CASE("bock-oci features, --version, and spec configs that run", "[oci-fields]") {
    bock::test::check_features_scenario("rl-features-");
}

TEST_CASE("bock-oci runs hooks where and when the spec says", "[oci-hooks]") {
    bock::test::check_hooks_scenario("rl-hooks-");
}

TEST_CASE("bock-oci mount options: nosymfollow, tmpfs size/mode, file binds, idmap", "[oci-mounts]") {
    bock::test::check_mount_options_scenario("rl-mounts-");
}
