// What every `bock` command starts from: which mode it runs in (root or
// rootless), where the store and the container state live, and — rootless —
// the joined session. Built once at the start of a command, before any
// thread exists.
#pragma once

#include <optional>
#include <string>

#include <sys/types.h>

#include "bock/common/error.hpp"
#include "bock/engine/config.hpp"
#include "bock/image/store.hpp"
#include "bock/userns/session.hpp"

namespace bock::engine {

struct Context {
    bool rootless = true;
    bool single_id = false;  // rootless with a single-ID mapping
    std::string store_root;  // BOCK_ROOT, ~/.local/share/bock, /var/lib/bock
    std::string run_root;    // BOCK_RUNROOT, $XDG_RUNTIME_DIR/bock, /run/bock
    std::optional<image::Store> store;
    // The storage driver forced for container roots (overlay,
    // fuse-overlayfs, bock-fuse, vfs; empty: the backend chain), and what
    // forced it: "--storage-driver" or "BOCK_STORAGE_DRIVER".
    std::string storage_driver;
    std::string storage_driver_from;
    // Who runs bock on the host (the session hides it: inside it we are 0).
    uid_t host_uid = 0;
    gid_t host_gid = 0;
    Config config;  // bock.conf (config.hpp), read once here
};

// The global `--storage-driver NAME` flag, set by the CLI before any
// context is made; refused unless NAME is a known driver. It wins over
// $BOCK_STORAGE_DRIVER.
Result<void> set_storage_driver(const std::string& name);

// Works out the paths and mode; rootless, joins (or creates) the session so
// that the caller is root in the session's user and mount namespaces; opens
// the image store.
Result<Context> open_context();

// The paths and mode only (no session, no store): for `bock doctor`.
Result<Context> probe_context();

}  // namespace bock::engine
