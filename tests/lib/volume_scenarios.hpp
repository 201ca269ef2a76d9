// Volumes and mounts (-v, --mount, --tmpfs, --volumes-from, `bock volume`),
// shared by the rootless ([volume]) and root ([root-volume]) suites
// (volume_scenarios.cpp). One image fixture per test process.
#pragma once

namespace bock::test {

// A named volume outlives its container and is shared by two (one writes,
// the other reads); `volume rm` refuses it while a container uses it,
// naming them; ls/inspect/prune; a volume created on first use.
void check_named_volumes();
// A new volume is filled from the image's directory (owners and modes
// kept), once; nocopy leaves it empty; the image's VOLUME is an anonymous
// volume, removed by `rm -v`.
void check_volume_seeded();
// Bind mounts (ro refuses writes, rw writes reach the host, a missing
// source is refused), --tmpfs, the --mount forms, --volumes-from.
void check_binds_tmpfs_mount_forms();
// A -v destination through a symlink to /etc in the image (or with `..`)
// lands inside the root; the host's /etc is untouched.
void check_hostile_destinations();
// `:U` chowns the source to the container's user (through the mapping
// when rootless); `:O` discards the container's writes.
void check_chown_and_overlay();

// Rootless with a single-ID mapping (no subordinate range): a volume is
// filled and used; `:U` to root works, to an unmapped user is refused.
void check_volume_single_id();

}  // namespace bock::test
