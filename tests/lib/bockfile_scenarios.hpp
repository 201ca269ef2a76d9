// Bockfile builds, build outputs, shared caches and bock-runtime, shared by
// the rootless ([bockfile]) and root ([root-bockfile]) suites
// (bockfile_scenarios.cpp).
#pragma once

namespace bock::test {

// Each Containerfile of the builder corpus (build_scenarios.cpp) written as
// a Bockfile builds to the same flattened tree and config; the Bockfile's
// --print-containerfile reads back; bock-runtime build gives the same image.
void check_bockfile_equals_containerfile();
// A schema error and a security.non_root violation fail with
// FILE:LINE:COLUMN and tag nothing; an image built with
// security.read_only_rootfs runs read-only unless --read-only=false, with
// the capabilities it names; security shows in --print-containerfile.
void check_bockfile_errors_and_security();
// --output of each type; --push to a local registry and a pull into
// another store; --cache-to then --cache-from in an empty store reuses
// every layer (no RUN runs); bock-runtime cache list|prune|clear.
void check_build_outputs_and_shared_cache();

}  // namespace bock::test
