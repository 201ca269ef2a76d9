// Seccomp user notification (linux.seccomp.listenerPath, runtime-spec
// config-linux.md): a filter with SCMP_ACT_NOTIFY rules is loaded with
// SECCOMP_FILTER_FLAG_NEW_LISTENER; the container process hands the notify
// fd to the runtime (SeccompFd, SCM_RIGHTS over the message socketpair) and
// waits; the runtime connects to listenerPath (a unix stream socket), sends
// the runtime-spec ContainerProcessState with the fd attached, closes its
// copy and answers SeccompDone. The seccomp agent on the other end answers
// the notifications from then on.
#pragma once

#include <sys/types.h>

#include <string>

#include <nlohmann/json.hpp>

#include "bock/common/error.hpp"
#include "bock/common/fd.hpp"
#include "bock/runtime/container.hpp"
#include "bock/runtime/spec.hpp"
#include "bock/runtime/state.hpp"
#include "seccomp.hpp"

namespace bock::runtime {

struct Child;
struct Plan;

// The runtime-spec version Bock implements: the ContainerProcessState's own
// ociVersion (the state inside carries the config's).
inline constexpr const char* kRuntimeSpecVersion = "1.1.0";

// Parent, before clone: the state the listener receives, without the pid.
// run/create: status `creating`, from the config and the run options.
void plan_listener_state(Plan& plan, const Spec& spec, const RunOptions& opts);
// exec: the container's recorded state, status `running`.
void plan_listener_state(Plan& plan, const ContainerState& st);

// {"ociVersion", "fds": ["seccompFd"], "pid", "metadata", "state": {... "pid"}}
nlohmann::json container_process_state(const SeccompListener& l, pid_t pid);

// Parent, on SeccompFd from process `pid`: connects to the listener, sends
// the state with `notify_fd` attached, closes both, then tells the child
// (SeccompDone on `sock`). A listener that is not there is an error naming
// listenerPath; the caller tears the container down.
Result<void> deliver_to_listener(const Plan& plan, pid_t pid, int sock, Fd notify_fd);

// Child, right after a load that returned `notify_fd`: sends it to the
// parent, closes it and waits for SeccompDone. Allocation-free; a failure
// is reported as a SetupFailed message and the child exits.
void hand_over_listener(Child& c, int notify_fd);

}  // namespace bock::runtime
