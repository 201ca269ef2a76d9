// The storage backends through bock run, rootless (tests/lib/layers_scenarios.cpp).
#include <catch2/catch.hpp>

#include "layers_scenarios.hpp"

using namespace bock::test;

TEST_CASE("bock run on each forced backend: file operations, df, the backend recorded", "[layers]") { check_layers_file_ops(); }
TEST_CASE("kept containers on each backend: a lower deletion stays private, bock rm leaves nothing", "[layers]") { check_layers_kept(); }
TEST_CASE("a SIGKILLed bock run on a FUSE backend: bock rm leaves no mount and no FUSE process", "[layers]") { check_layers_killed(); }
TEST_CASE("bock info shows the storage driver configured, bock doctor the FUSE fallback", "[layers]") { check_layers_info(); }
TEST_CASE("the chain falls back to fuse-overlayfs, bock-fuse, then vfs with its warning", "[layers]") { check_layers_fallback(); }
TEST_CASE("a container of a four-layer image takes < 1 MiB until it writes", "[layers]") { check_layers_disk_use(); }
