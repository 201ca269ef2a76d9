// Volumes and mounts (rootless; tests/lib/volume_scenarios.cpp).
#include <catch2/catch.hpp>

#include "volume_scenarios.hpp"

using namespace bock::test;

TEST_CASE("a named volume outlives its container, is shared, and is not removed while in use", "[volume]") { check_named_volumes(); }
TEST_CASE("a new volume is filled from the image; the image's VOLUME is anonymous and rm -v removes it", "[volume]") { check_volume_seeded(); }
TEST_CASE("bind mounts, --tmpfs, --mount and --volumes-from", "[volume]") { check_binds_tmpfs_mount_forms(); }
TEST_CASE("a -v destination through a symlink to /etc lands inside the root", "[volume]") { check_hostile_destinations(); }
TEST_CASE(":U chowns the source to the container's user; :O discards writes", "[volume]") { check_chown_and_overlay(); }
TEST_CASE("volumes with a single-ID mapping", "[norange]") { check_volume_single_id(); }
