// The security profile and options of bock run (rootless; tests/lib/security_scenarios.cpp).
#include <catch2/catch.hpp>

#include "security_scenarios.hpp"

using namespace bock::test;

TEST_CASE("the default security profile and the flags that change it", "[security]") { check_security_defaults(); }
TEST_CASE("read-only roots, sysctls, ulimits, shm, env files, devices, groups", "[security]") { check_security_options(); }
TEST_CASE("pid, uts and ipc namespaces shared with the host or a container", "[security]") { check_security_namespaces(); }
