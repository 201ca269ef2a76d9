// Service networks as the unprivileged test user (tests/lib/svcnet_scenarios.cpp).
#include <catch2/catch.hpp>

#include "svcnet_scenarios.hpp"

TEST_CASE("bock network create, ls, inspect, rm, prune, connect, disconnect", "[svcnet]") {
    bock::test::check_network_records();
}

TEST_CASE("containers on a service network reach each other by name; other networks cannot", "[svcnet]") {
    bock::test::check_network_traffic();
}

TEST_CASE("detached containers on a service network, restarted", "[svcnet]") {
    bock::test::check_network_detached();
}

TEST_CASE("published ports to a container on a service network", "[svcnet-ports]") {
    bock::test::check_network_ports();
}
