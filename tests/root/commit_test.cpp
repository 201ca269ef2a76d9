// bock diff, commit and export (root; tests/lib/commit_scenarios.cpp).
#include <catch2/catch.hpp>

#include "commit_scenarios.hpp"

using namespace bock::test;

TEST_CASE("a container's changes commit, run and export as it saw them", "[root-commit]") { check_commit_roundtrip(); }
TEST_CASE("a killed commit leaves nothing; an unchanged container adds no layer", "[root-commit]") { check_commit_crash_and_empty(); }
TEST_CASE("the change set of a container on each FUSE backend and on vfs commits as it saw it", "[root-commit]") { check_commit_backends(); }
