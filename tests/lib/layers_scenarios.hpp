// The storage backends through `bock run`, shared by the rootless
// ([layers]) and root ([root-layers]) suites (layers_scenarios.cpp).
#pragma once

namespace bock::test {

// Each backend forced: file operations, df, the backend recorded, no
// warning but vfs's.
void check_layers_file_ops();
// Kept containers: a lower deletion stays private; bock rm leaves no
// mount and no FUSE process.
void check_layers_kept();
// A SIGKILLed bock run on a FUSE backend: bock rm cleans up.
void check_layers_killed();
// bock info and doctor name the chain.
void check_layers_info();
// The chain falls back: kernel overlay refused (a test hook) ->
// fuse-overlayfs; not in PATH -> bock-fuse; /dev/fuse unusable -> vfs
// with its warning.
void check_layers_fallback();
// A container of a four-layer image takes < 1 MiB on disk until it
// writes (overlay, fuse-overlayfs, bock-fuse).
void check_layers_disk_use();

}  // namespace bock::test
