// The security profile and options of `bock run`/`bock create`, shared by
// the rootless ([security]) and root ([root-security]) suites
// (security_scenarios.cpp; docs/security.md).
#pragma once

namespace bock::test {

// The default profile: seccomp in filter mode with unshare(2) refused,
// podman's capability set, no_new_privs, masked paths, ping for group 0;
// seccomp=unconfined, --cap-add/--cap-drop, no-new-privileges=false and
// --privileged each change exactly what they name.
void check_security_defaults();
// --read-only (with and without its tmpfs), --sysctl, --ulimit, --shm-size,
// --env-file, --device, --group-add, --annotation, --entrypoint/-u/-w/
// --hostname/--label; bad values are refused with exit 125 and leave no
// container behind.
void check_security_options();
// --pid host, --uts container:NAME, --ipc container:NAME.
void check_security_namespaces();

}  // namespace bock::test
