// Service networks as root (tests/lib/svcnet_scenarios.cpp): the same
// scenarios as the rootless suite; the private namespace and the bridges
// are root's, the way out its bock-netns.
#include <catch2/catch.hpp>

#include "svcnet_scenarios.hpp"

TEST_CASE("root: bock network create, ls, inspect, rm, prune, connect, disconnect", "[root-svcnet]") {
    bock::test::check_network_records();
}

TEST_CASE("root: containers on a service network reach each other by name; other networks cannot",
          "[root-svcnet]") {
    bock::test::check_network_traffic();
}

TEST_CASE("root: detached containers on a service network, restarted", "[root-svcnet]") {
    bock::test::check_network_detached();
}

TEST_CASE("root: published ports to a container on a service network", "[root-svcnet-ports]") {
    bock::test::check_network_ports();
}
