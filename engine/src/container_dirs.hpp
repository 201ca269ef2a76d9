// Where one container's files live:
//   <store>/containers/<id>/upper, work    its writable layer (persistent)
//   <store>/containers/<id>/container.json what it was made from, its state
//   <run_root>/containers/<id>/            the bundle: config.json + rootfs
//                                          mount point (runtime state)
#pragma once

#include <string>

#include "bock/common/error.hpp"
#include "bock/frontend/context.hpp"

namespace bock::frontend {

struct ContainerDirs {
    std::string id;
    std::string storage;  // <store>/containers/<id>
    std::string upper, work;
    std::string bundle;   // <run_root>/containers/<id>
    std::string rootfs;   // <bundle>/rootfs

    static ContainerDirs for_id(const Context& ctx, const std::string& id);
    Result<void> create() const;
    // Removes both directories; the rootfs must be unmounted already.
    Result<void> remove() const;
};

// 64 random hex characters, as Docker's container ids.
Result<std::string> new_container_id();

}  // namespace bock::frontend
