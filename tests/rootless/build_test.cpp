// bock build (rootless; tests/lib/build_scenarios.cpp).
#include <catch2/catch.hpp>

#include "build_scenarios.hpp"

using namespace bock::test;

TEST_CASE("a corpus of Containerfiles builds as buildah builds it", "[build]") { check_build_equals_buildah(); }
TEST_CASE("the layer cache: no change, a late change, --no-cache", "[build]") { check_build_cache(); }
TEST_CASE("bad Containerfiles, a failing RUN and a killed build leave nothing", "[build]") { check_build_errors_and_crash(); }
TEST_CASE("RUN --network and RUN --mount=type=bind", "[build]") { check_build_run_network_and_bind(); }
