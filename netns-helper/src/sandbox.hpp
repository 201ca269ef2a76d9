// How bock-netns locks itself down before it says ready (the order is in
// helper.cpp; the reasons in docs/netns-helper.md):
//  - its own mount namespace whose root is an empty tmpfs holding only
//    /etc and /run, read-only (libslirp re-reads /etc/resolv.conf, which is
//    often a link into /run);
//  - no capabilities (all sets, the bounding set included), securebits that
//    keep uid 0 from regaining them, no_new_privs; per thread, so each
//    thread calls drop_privileges() itself;
//  - a seccomp deny list (seccomp.cpp, rules in seccomp.rules).
#pragma once


#include "bock/common/error.hpp"

namespace bock::netns {

// Needs CAP_SYS_ADMIN in the current user namespace; single-threaded or
// before the other threads exist (they inherit the mount namespace).
Result<void> enter_mount_sandbox();
// Drops every capability of the calling thread and sets no_new_privs.
Result<void> drop_privileges();
// The seccomp deny list (seccomp.rules, compiled to BPF at build time),
// loaded for every thread (TSYNC) with no_new_privs.
Result<void> load_seccomp_filter();

}  // namespace bock::netns
