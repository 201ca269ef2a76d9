// Where one container's files live:
//   <store>/containers/<id>/upper, work    its writable layer (persistent)
//   <store>/containers/<id>/container.json what it was made from, its state
//   <run_root>/containers/<id>/            the bundle: config.json + rootfs
//                                          mount point, pid (runtime state)
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "bock/common/error.hpp"
#include "bock/engine/containers.hpp"
#include "bock/engine/context.hpp"

namespace bock::engine {

struct ContainerDirs {
    std::string id;
    std::string storage;  // <store>/containers/<id>
    std::string upper, work;
    std::string bundle;   // <run_root>/containers/<id>
    std::string rootfs;   // <bundle>/rootfs

    static ContainerDirs for_id(const Context& ctx, const std::string& id);
    std::string record() const { return storage + "/container.json"; }
    std::string pid_file() const { return bundle + "/pid"; }  // the container process, written by the runtime
    Result<void> create() const;
    // Detaches the root filesystem's mount if it is still there (a bock
    // killed while the container ran leaves it).
    Result<void> unmount() const;
    // Removes both directories; the rootfs must be unmounted already.
    Result<void> remove() const;
};

// The container's own process, from the runtime's pid file, when it is a
// child of the recorded owner (so a reused pid is never signalled or joined).
std::optional<pid_t> container_pid(const ContainerDirs& dirs, pid_t owner);
// The process the container's PID 1 is a child of: its monitor when it has
// one, else the foreground bock that runs it.
pid_t container_parent(const ContainerRecord& r);

// 64 random hex characters, as Docker's container ids.
Result<std::string> new_container_id();

}  // namespace bock::engine
