// The process and linux fields applied by small system calls in the child:
// process.oomScoreAdj, process.ioPriority, process.scheduler,
// linux.personality, process.apparmorProfile, process.selinuxLabel,
// linux.mountLabel and linux.timeOffsets with a new time namespace.
// Parsed from the config (Spec::raw) into the plan by the parent; the child
// only copies bytes and makes system calls (see child.hpp).
#pragma once

#include <cstdint>
#include <string>

#include "bock/common/error.hpp"
#include "bock/runtime/spec.hpp"

namespace bock::runtime {

struct Plan;
struct Child;

struct ProcessAttrs {
    bool set_oom = false;
    std::string oom_score_adj;  // the text written to /proc/self/oom_score_adj
    bool set_ioprio = false;
    int ioprio = 0;  // IOPRIO_PRIO_VALUE(class, level)
    bool set_sched = false;
    uint32_t sched_policy = 0;
    int32_t sched_nice = 0;
    uint32_t sched_priority = 0;
    uint64_t sched_flags = 0, sched_runtime = 0, sched_deadline = 0, sched_period = 0;
    bool set_personality = false;
    unsigned long personality = 0;
    std::string apparmor_exec;  // "exec PROFILE" for /proc/self/attr/apparmor/exec
    std::string selinux_label;  // for /proc/self/attr/exec
    bool new_time = false;      // unshare(CLONE_NEWTIME) in the child
    std::string time_offsets;   // "monotonic S N\nboottime S N\n"
};

// Parent, while building the plan: fills p.attrs, adds linux.mountLabel to
// the mounts' data. An AppArmor profile on a host without AppArmor is
// refused, naming the field; SELinux labels on a host without SELinux are
// ignored with a debug line (as runc and crun).
Result<void> plan_process_attrs(const Spec& spec, Plan& p);

// Child, after joining namespaces, before the root filesystem is set up:
// a new time namespace with its offsets (the exec'd process enters it).
void enter_time_namespace(Child& c);
// Child, in setup_process while still privileged: oom_score_adj, I/O
// priority, scheduler, personality, LSM exec labels.
void apply_process_attrs(Child& c);

}  // namespace bock::runtime
