// Detached containers under bock-monitor, as root
// (tests/lib/lifecycle_scenarios.cpp).
#include <catch2/catch.hpp>

#include "lifecycle_scenarios.hpp"

using namespace bock::test;

TEST_CASE("run -d, logs -f, stop, start", "[root-lifecycle]") { check_detached_logs(); }
TEST_CASE("create, start, wait, run -i", "[root-lifecycle]") { check_create_start_wait_stdin(); }
TEST_CASE("--rm and stop", "[root-lifecycle]") { check_rm_and_stop(); }
TEST_CASE("restart policies", "[root-lifecycle-restart]") { check_restart_policies(); }
TEST_CASE("run -it through tmux", "[root-lifecycle-tty]") { check_terminal(); }
TEST_CASE("run -it with stdin at EOF, ten times under script", "[root-lifecycle-tty]") { check_terminal_eof(); }
TEST_CASE("SIGKILL at any point", "[root-lifecycle-crash]") { check_sigkill_anywhere(); }
TEST_CASE("fifty concurrent run -d", "[root-lifecycle-fifty]") { check_fifty_concurrent(); }
