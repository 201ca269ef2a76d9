// top, stats, pause, events --follow, completion (rootless; tests/lib/observe_scenarios.cpp).
#include <catch2/catch.hpp>

#include "observe_scenarios.hpp"

using namespace bock::test;

TEST_CASE("top lists the container's processes with podman's descriptors", "[top]") { check_top(); }
TEST_CASE("stats --no-stream: CPU, memory, pids, I/O and pressure, and where each comes from", "[stats]") { check_stats(); }
TEST_CASE("pause is refused rootless on cgroup v1 with the reason; commit --pause warns", "[pause]") { check_pause(); }
TEST_CASE("events --follow prints new events until --until", "[prune]") { check_events_follow(); }
TEST_CASE("bash completion of commands, flags, containers and images", "[completion]") { check_completion(); }
