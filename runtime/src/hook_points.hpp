// The points of the process model where hooks run (hooks.hpp), for run.cpp:
// the hooks and the state come from the plan.
#pragma once

#include <sys/types.h>

#include <string>

#include "bock/common/error.hpp"

namespace bock::runtime {

struct Plan;

// prestart, createRuntime (our namespaces), createContainer (the child's
// user and mount namespaces); the child waits before pivot_root.
Result<void> run_create_hooks(const Plan& p, const std::string& id, pid_t pid);
// startContainer, in the child's namespaces, before it is told to go on.
Result<void> run_start_hooks(const Plan& p, const std::string& id, pid_t pid);
// Warnings only.
void run_poststart_hooks(const Plan& p, const std::string& id, pid_t pid);
void run_poststop_hooks(const Plan& p, const std::string& id);

}  // namespace bock::runtime
