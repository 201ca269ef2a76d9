// Shared by run.cpp and lifecycle.cpp (engine-private).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "bock/common/error.hpp"
#include "bock/common/lock.hpp"
#include "bock/engine/context.hpp"
#include "bock/image/store.hpp"
#include "bock/layers/overlay.hpp"
#include "bock/runtime/spec.hpp"
#include "container_dirs.hpp"

namespace bock::engine {

// The container's lock (<store>/containers/<id>/lock): every change of a
// detached container's record (start, stop, cleanup, rm) holds it.
Result<FileLock> lock_container(const Context& ctx, const std::string& id);

// Mounts the container's root from its image's layers; `driver`, when not
// empty, is the backend it had before (a restart).
// `extra_lowers`: the engine's own layers on top of the image's (the
// network files' mount targets, record.extra_lowers). `shift_*`: the id
// shift of a container with its own user namespace (record.shift_uids),
// through a FUSE backend: a per-container copy (vfs) is refused.
Result<layers::MountedRoot> mount_container_root(const Context& ctx, const ContainerDirs& dirs,
                                                 const image::ImageRecord& rec, const std::string& driver,
                                                 const std::vector<std::string>& extra_lowers = {},
                                                 const std::string& shift_uids = "",
                                                 const std::string& shift_gids = "");

// The container's PID 1, from the runtime's pid file, when it is a child
// of `parent` (its monitor, or the foreground bock), so a reused pid is
// never signalled.
std::optional<pid_t> container_process(const ContainerDirs& dirs, pid_t parent);

// Signals `pid` with SIGKILL if it is still the process started at
// `start`; waits up to `timeout_ms` for it to be gone (a zombie counts).
// False when it outlived the wait.
bool kill_and_wait(pid_t pid, uint64_t start, int timeout_ms);

// The cgroup the monitor's creator recorded (<rundir>/cgroup.json), removed.
void remove_recorded_cgroup(const ContainerDirs& dirs);

// --init: bock-init bind-mounted read-only at /run/bock-init, and the
// process's args put behind it.
Result<void> add_init(runtime::Spec& spec);

}  // namespace bock::engine
