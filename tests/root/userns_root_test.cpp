// --userns, resource limits and bock.conf (root; tests/lib/userns_scenarios.cpp).
#include <catch2/catch.hpp>

#include "userns_scenarios.hpp"

using namespace bock::test;

TEST_CASE("keep-id refused as root; --uidmap maps and shifts the image; auto from /etc/subuid", "[root-userns]") {
    check_root_userns();
}
TEST_CASE("--memory OOM-kills past the limit, --pids-limit stops forks, --cpus written", "[root-limits]") {
    check_limits_enforced_root();
}
TEST_CASE("bock.conf: keys change behaviour, unknown keys warned, malformed files refused", "[root-config]") {
    check_config_file();
}
