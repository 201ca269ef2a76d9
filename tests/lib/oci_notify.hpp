// Seccomp user notification end to end (linux.seccomp.listenerPath), shared
// by the root and rootless suites: a seccomp agent in the test process
// receives the container process state and the notify fd, and answers the
// container's getppid with 4242, which the probe inside reports.
#pragma once

#include <string>

namespace bock::test {

// bock-oci run (with and without no_new_privs), create + start, exec into
// a running container, and a listener that is not there (one error line,
// nothing left behind).
void check_oci_notify_scenario(const std::string& id_prefix);

}  // namespace bock::test
