// End-to-end checks of the engine's container record and the store's
// leases, run by tests/rootless/engine_test.cpp (as the test user) and
// tests/root/engine_root_test.cpp (root mode). Each expects an empty store.
#pragma once

namespace bock::test {

// `bock run` SIGKILLed mid-run: `ps -a` shows it exited with the reason;
// `bock rm` removes it leaving no mount, process, lease or directory.
void check_killed_run_is_reconciled();
// `bock rm` of a running container refused (exit 2, names -f); `rm -f`
// kills and removes it; names work as ids.
void check_rm_force_running();
// A lease, or the lease directory, that cannot be read: `image prune -a`
// refuses naming the path and deletes nothing.
void check_gc_fails_closed();
// A store left by the previous Bock (records under containers/, no
// leases/): the first command migrates them and gc keeps their layers.
void check_old_store_keeps_layers();

}  // namespace bock::test
