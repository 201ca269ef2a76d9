// Watching running containers (issue 18): `bock top`, `stats`,
// `pause`/`unpause` (and `commit --pause`), `events --follow` and shell
// completion, shared by the rootless ([top], [stats], [pause],
// [completion], [prune]) and root ([root-top], ...) suites
// (observe_scenarios.cpp).
#pragma once

namespace bock::test {

// top with the default, named and AIX descriptors against /proc and
// the container's pid namespace; bad descriptors and stopped containers refused.
void check_top();
// stats --no-stream as JSON, table and template: CPU time that grows with
// a busy loop, memory, pids, sources (cgroup as root, /proc rootless with
// the note on stderr), pressure where the host has PSI.
void check_stats();
// As root: pause freezes (a ticking file stops), ps/inspect say paused,
// unpause resumes, commit --pause leaves it running, stop of a paused
// container works. Rootless on cgroup v1: refused with the reason and the fix.
void check_pause();
// `bock events --follow` prints an event recorded after it started, and
// returns at --until.
void check_events_follow();
// The bash script from `bock completion bash` in a real bash: `bock ru`
// gives run, container names, flags; zsh and fish scripts are printed.
void check_completion();

}  // namespace bock::test
