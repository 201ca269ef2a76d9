// Process and linux fields and hooks of config.json as seen from inside
// and around the container, shared by the root and rootless suites.
#pragma once

#include <string>

namespace bock::test {

// oomScoreAdj, ioPriority, scheduler, personality, timeOffsets (probe
// report); apparmor/selinux refused with a clear error on a host without.
void check_process_fields_scenario(const std::string& id_prefix);
// Every hook kind runs where and when the spec says, with the state on
// stdin; failures and timeouts tear the container down.
void check_hooks_scenario(const std::string& id_prefix);
// `bock-oci features` and `--version`; `spec` (and --rootless) configs run.
void check_features_scenario(const std::string& id_prefix);

}  // namespace bock::test

namespace bock::test {

// Mount options: nosymfollow, tmpfs size/mode, bind of a file, propagation,
// idmap (as root an id-mapped bind works; rootless the kernel refuses it:
// one clear error).
void check_mount_options_scenario(const std::string& id_prefix);

}  // namespace bock::test
