// Looking inside containers and cleaning up (issue 18): `bock cp`,
// `rename`, `container prune`, `system df`, `system prune`, `events`,
// shared by the rootless ([cp], [prune]) and root ([root-cp],
// [root-prune]) suites (inspect_scenarios.cpp).
#pragma once

namespace bock::test {

// cp out and in, on a running and on a stopped container: owners kept with
// -a and the caller's / the container root's without; a symlink pointing
// outside the root resolves inside it (reading and writing); tar streams
// with `-`; bad input refused with nothing left behind.
void check_cp();
// rename, container prune, system df against du, system prune -a leaving
// an empty store while a running container is untouched, and the events
// that recorded it all.
void check_prune();

}  // namespace bock::test
