// bock build as root (tests/lib/build_scenarios.cpp).
#include <catch2/catch.hpp>

#include "build_scenarios.hpp"

using namespace bock::test;

TEST_CASE("root: a corpus of Containerfiles builds as buildah builds it", "[root-build]") { check_build_equals_buildah(); }
TEST_CASE("root: the layer cache: no change, a late change, --no-cache", "[root-build]") { check_build_cache(); }
TEST_CASE("root: bad Containerfiles, a failing RUN and a killed build leave nothing", "[root-build]") { check_build_errors_and_crash(); }
TEST_CASE("root: RUN --network and RUN --mount=type=bind", "[root-build]") { check_build_run_network_and_bind(); }
