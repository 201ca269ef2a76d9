// top, stats, pause, events --follow, completion (root; tests/lib/observe_scenarios.cpp).
#include <catch2/catch.hpp>

#include "observe_scenarios.hpp"

using namespace bock::test;

TEST_CASE("top lists the container's processes with podman's descriptors", "[root-top]") { check_top(); }
TEST_CASE("stats --no-stream: CPU, memory, pids, I/O and pressure from the cgroup", "[root-stats]") { check_stats(); }
TEST_CASE("pause and unpause through the freezer, commit --pause, stop and rm -f of a paused container", "[root-pause]") { check_pause(); }
TEST_CASE("events --follow prints new events until --until", "[root-prune]") { check_events_follow(); }
TEST_CASE("bash completion of commands, flags, containers and images", "[root-completion]") { check_completion(); }
