// Protection against the CVE-2019-5736 class (runc's and crun's "cloned
// binary"): a container process that opens /proc/PID/exe of the runtime
// (while the runtime is its parent, or is the process itself before exec)
// must not be able to overwrite the runtime's binary on the host.
//
// bock-oci re-executes itself from a sealed memfd before it puts a process
// into a container: /proc/self/exe is then `/memfd:bock-oci (deleted)`,
// whose seals refuse every write, and the host file is never reachable
// from the container.
#pragma once

#include "bock/common/error.hpp"

namespace bock::runtime {

// Set to 1 to skip the re-exec (for debugging only: it removes the
// protection).
inline constexpr const char* kNoSealedExeEnv = "BOCK_OCI_NO_SEALED_EXE";

// True when /proc/self/exe is a memfd carrying all of the write seals.
bool running_from_sealed_memfd();

// Copies /proc/self/exe into a sealed memfd and fexecve()s it with the
// same argv and environment. Returns only when there is nothing to do (already
// sealed, or disabled with kNoSealedExeEnv) or on an error (nothing has
// changed then: the caller reports it and stops).
Result<void> reexec_from_sealed_memfd(char** argv);

}  // namespace bock::runtime
