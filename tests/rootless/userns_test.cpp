// --userns, resource limits and bock.conf (rootless; tests/lib/userns_scenarios.cpp).
#include <catch2/catch.hpp>

#include "userns_scenarios.hpp"

using namespace bock::test;

TEST_CASE("keep-id: the user's ids inside, their files usable and theirs, the image shifted without a copy", "[userns]") {
    check_keep_id();
}
TEST_CASE("volumes with --userns=keep-id and --uidmap: copy-up and :U through the container's maps", "[userns]") {
    check_userns_volumes();
}
TEST_CASE("--uidmap, keep-id:uid=,gid=, host, auto, ns:PATH and bad input", "[userns]") { check_userns_modes(); }
TEST_CASE("the default network with keep-id, --uidmap and auto: run, run -d, create + start, restart", "[userns]") {
    check_userns_network();
}
TEST_CASE("limits that cannot hold rootless are refused with the fix; --ignore-limits runs without", "[limits]") {
    check_limits_refused_rootless();
}
TEST_CASE("bock.conf: keys change behaviour, unknown keys warned, malformed files refused", "[config]") {
    check_config_file();
}
