// The process settings of an OCI bundle as the probe sees them inside the
// container, shared by the root and rootless suites: capabilities, seccomp
// (a denied syscall returns the configured errno), masked and read-only
// paths, rlimits, no_new_privs, hostname and id mappings.
#pragma once

#include <string>

namespace bock::test {

// Runs bock-oci on probe bundles (make_oci_bundle + bin("bock-probe")) and
// asserts on the probe's report; a malformed linux.seccomp is exit 125
// with one error line naming the field.
void check_oci_process_scenario(const std::string& id_prefix);

}  // namespace bock::test
