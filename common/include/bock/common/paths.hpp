// Where Bock keeps things. Rootless:
//   store:   $BOCK_ROOT, else $XDG_DATA_HOME/bock, else ~/.local/share/bock
//   runtime: $XDG_RUNTIME_DIR, else /tmp/bock-run-$UID (0700, owner checked)
//   runroot: $BOCK_RUNROOT, else <runtime>/bock   (container state, session)
// Root: /var/lib/bock and /run/bock, with the same overrides.
#pragma once

#include <string>

#include "bock/common/error.hpp"

namespace bock::paths {

// The PATH a container gets when its image sets none (podman's, runc's).
inline constexpr const char kDefaultPath[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

bool running_as_root();  // real uid 0 in the initial user namespace
Result<std::string> store_root();
Result<std::string> runtime_dir();  // creates /tmp/bock-run-$UID if needed
Result<std::string> run_root();     // creates it (0700) if needed
std::string home_dir();

// Where Bock's helper executables (bock-netns, bock-fuse-overlay,
// bock-monitor, setuid helpers) are found, in this order:
//   $BOCK_HELPER_DIR/NAME            (tests, packagers' overrides)
//   <dir of /proc/self/exe>/NAME     (the build tree: build/bin/)
//   <dir of /proc/self/exe>/../libexec/bock/NAME   (installed: PREFIX/bin/bock)
// An error names every place looked at.
Result<std::string> helper_path(const std::string& name);

}  // namespace bock::paths
