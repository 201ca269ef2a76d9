// End-to-end checks of `bock exec`, `inspect`, `ps` and health checks,
// run by tests/rootless/exec_test.cpp (as the test user) and
// tests/root/exec_root_test.cpp (root mode). Each expects an empty store.
// The running container is a foreground `bock run ... sleep 1000` started
// in the background (the monitor's `run -d` is another part of issue 16).
#pragma once

namespace bock::test {

// exec: the container's env, user and workdir and the flags that change
// them, its pid namespace, exit codes (own, 126, 127, 125 when not
// running), -d, stdin only with -i, --privileged's capabilities.
void check_exec();
// exec -it through a real terminal (tmux): a pty of the container's
// devpts, its size following a resize of the terminal, the exit code.
void check_exec_tty();
// inspect: Docker's fields against facts (pid alive, exit code), images
// too, --type, --format; ps: -q, --no-trunc, --filter, --format.
void check_inspect_and_ps();
// Health checks: starting -> healthy -> unhealthy (after retries) ->
// healthy, shown in ps and inspect; a timeout; --health-on-failure=kill.
void check_health();
// The monitor's health timer on a detached container: healthy, then
// unhealthy within interval x retries of the file the check tests being
// removed (ps and inspect); --health-on-failure=restart really restarts
// (status "restarting" while its cleanup waits, then running with a new
// process, RestartCount 1, healthy again).
void check_health_timer();

}  // namespace bock::test
