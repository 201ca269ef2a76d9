// Starting a container under a new bock-monitor (docs/monitor.md,
// docs/process-model.md "Detached containers").
//
// bock forks a process B, which:
//   1. setsid(), becomes a child subreaper, writes <rundir>/monitor.pid;
//   2. sets up the container's stdio (pipes, or the console socket for -t);
//   3. creates the container with runtime::create_container (the runtime's
//      create/start split): the container process is B's child, blocked on
//      <rundir>/exec.fifo, with PDEATHSIG=SIGKILL; the network's hooks
//      (a bock-netns started by bock before the fork) run meanwhile;
//   4. execs bock-monitor with the pipe ends / pty master, keeping its pid
//      (so it stays the container's parent).
// The monitor releases the container itself with --start (run -d, start
// of an exited container); otherwise `bock start` reads the fifo later.
// Either way the monitor writes "PID\n" to the ready pipe bock reads, or
// "E<status> <message>\n" when something failed.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/engine/containers.hpp"
#include "bock/runtime/spec.hpp"
#include "container_dirs.hpp"

namespace bock::engine {

struct Launched {
    pid_t monitor = 0;
    uint64_t monitor_start = 0;
    pid_t container = 0;
};

class ContainerNetwork;

// Launches the monitor for `rec` whose bundle (config.json) and root are
// ready. `start`: the monitor releases the container at once. `net`, when
// given and started: B keeps its inherited_fds() and installs its hooks
// (attach()) on the runtime's create, so a network helper gets the
// container's pid and is ready before the container can run; the caller
// then calls net->detach() (the helper lives as long as the container).
Result<Launched> launch_monitor(const Context& ctx, const ContainerRecord& rec, const ContainerDirs& dirs,
                                runtime::Spec spec, bool start, ContainerNetwork* net = nullptr);

// The container's log file (<storage>/ctr.log; rotated to ctr.log.1).
std::string log_path(const ContainerDirs& dirs);

}  // namespace bock::engine
