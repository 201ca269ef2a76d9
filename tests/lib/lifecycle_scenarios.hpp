// End-to-end checks of detached containers under bock-monitor
// (docs/monitor.md), run by tests/rootless/lifecycle_test.cpp and
// tests/root/lifecycle_root_test.cpp. Each expects an empty store.
#pragma once

#include <string>
#include <vector>

namespace bock::test {

// `bock run -d ARGS...`: the new container's id (the run must succeed).
std::string run_detached(const std::vector<std::string>& args);

// run -d with a name; the monitor is the container's parent and outlives
// bock; logs, -f following until stop, --tail, -t, --since/--until, the
// JSON-lines file; stop of a shell PID 1; start again; rm -f.
void check_detached_logs();
// create / start / wait; run -i with stdin; --cidfile; exit codes.
void check_create_start_wait_stdin();
// run -it in tmux: a real pty, its size, a resize, ctrl-p ctrl-q, attach, exit.
void check_terminal();
// run -it under `script` with stdin at EOF, ten times: the shell sees the
// EOF and bock returns every time (it hung about 1 in 10 when the EOF
// reached the pty before the shell switched it to raw mode).
void check_terminal_eof();
// on-failure:3 exactly 3 restarts with backoff; always after kill, not
// after stop; system restart.
void check_restart_policies();
// --rm removes everything; stop of sleep < 0.5 s; a TERM trap runs;
// --stop-signal/--stop-timeout.
void check_rm_and_stop();
// SIGKILL of the container, of the monitor, of bock and of the cleanup
// at named points: ps shows the truth, rm -f cleans everything.
void check_sigkill_anywhere();
// Fifty run -d at once: ps lists fifty, one stop for all, rm -f -a.
void check_fifty_concurrent();

}  // namespace bock::test
