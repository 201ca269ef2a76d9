// A running container as the runtime library sees it: its process (pid and
// start time, so a reused pid is never joined or signalled) and its bundle.
// Shared by exec (exec.cpp) and health checks (health.cpp).
#pragma once

#include "bock/common/error.hpp"
#include "bock/engine/containers.hpp"
#include "bock/runtime/state.hpp"

namespace bock::engine {

// An Error (naming the container and its status) unless it is running.
Result<runtime::ContainerState> running_state(const Context& ctx, const ContainerInfo& c);

// Signals `pid` with SIGKILL if it is still the process started at `start`;
// waits up to `timeout_ms` for it to be gone. False when it outlived the
// wait. (Also stops the service networks' DNS responders.)
bool kill_and_wait(pid_t pid, uint64_t start, int timeout_ms);

}  // namespace bock::engine
