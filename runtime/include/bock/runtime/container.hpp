// Running a container from a parsed spec. The process model (docs/
// process-model.md): the caller clones the container's first process into
// its new namespaces; the two talk through typed messages over a
// SOCK_SEQPACKET pair; the child sets up the root filesystem, devices,
// hostname, user and working directory from a plan prepared before clone
// (no allocation in the child) and execs the process, which is PID 1 of its
// pid namespace.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>

#include "bock/common/error.hpp"
#include "bock/runtime/cgroup.hpp"
#include "bock/runtime/spec.hpp"

namespace bock::runtime {

struct RunOptions {
    std::string id;
    std::string bundle;  // root.path is relative to it unless absolute
    // Rootless: device nodes are bind-mounted from the host instead of
    // created with mknod; sysfs is bound if it cannot be mounted.
    bool rootless = false;
    // Forward SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH
    // received by the caller to the container process.
    bool forward_signals = true;
    // Written (atomically) with the container process's pid once it exists.
    std::string pid_file;
    // Where compiled seccomp filters are kept, keyed by their profile, the
    // kernel and libseccomp (seccomp_cache.cpp); empty: compiled each time
    // (bock-oci). `bock run` points it into its store.
    std::string seccomp_cache_dir;
    // process.terminal: a unix socket that receives the pty master (runc's
    // --console-socket); required with terminal, refused without.
    std::string console_socket;
    // Fds 3..3+N-1 of the caller stay open in the container process.
    int preserve_fds = 0;
    // Called in the parent once the container process exists in its
    // namespaces and reported ready, before it is started (run_container:
    // before the start hooks and StartContainer; create_container: once it
    // blocks on the exec fifo, before create_container returns), e.g. to
    // wait for a network helper attached to its network namespace. An
    // error aborts the run (the process is killed) and is returned.
    std::function<Result<void>(pid_t)> on_created;
    // Called in the parent right after the container
    // process is cloned (in its cgroup, its pid file written), while it
    // still sets itself up: the namespaces made by clone exist, so a
    // helper can start on them in parallel with the container's setup
    // (on_created then waits for it). Namespaces joined by path are not
    // joined yet. An error aborts the run as for on_created. netns_fd: the
    // network namespace clone made, opened by the runtime right after the
    // clone (valid during the call; -1 if none), which may be impossible
    // to open by pid later: a container with a user namespace of its own
    // changes its ids and is not dumpable until its exec.
    std::function<Result<void>(pid_t pid, int netns_fd)> on_spawned;
    // create_container: the signal the process gets when its creator dies
    // (0: none, runc's behaviour; bock's monitor, which creates and then
    // becomes the container's parent, asks for SIGKILL).
    int create_parent_death_signal = 0;
};

// Creates, starts and waits for the container. Returns Docker's exit code:
// the process's own, or 128+signal if it was killed. When the process
// cannot be executed the Error carries exit_status 127 (not found) or 126
// (not executable) and names the command; any other setup failure is an
// Error with exit_status 125.
Result<int> run_container(const Spec& spec, const RunOptions& opts);

// The create/start split (runc's exec-fifo design). create_container sets
// the container up completely (root filesystem, user, capabilities) and
// returns with its process left blocked before exec, opening `exec_fifo`
// (a fifo the caller made, see state.hpp) for writing. The process has no
// parent-death signal: the caller may exit, and the process is reparented
// to the nearest subreaper. Setup failures are Errors as for run_container.
struct CreatedProcess {
    pid_t pid = 0;
    uint64_t start_time = 0;  // /proc/PID/stat field 22, to detect pid reuse
    CgroupPaths cgroup;       // the container's cgroup (mode none: none)
};
Result<CreatedProcess> create_container(const Spec& spec, const RunOptions& opts, const std::string& exec_fifo);

// Releases a created container: reads the byte its process writes into
// `exec_fifo` (waiting for it, or failing if `pid` exits first), then
// removes the fifo; the process goes on to exec.
Result<void> start_container(const std::string& exec_fifo, pid_t pid);

}  // namespace bock::runtime
