// `bock diff`, `bock commit` and `bock export`, shared by the rootless
// ([commit]) and root ([root-commit]) suites (commit_scenarios.cpp).
#pragma once

namespace bock::test {

// A container adds, changes and deletes files, deletes a directory of the
// image and recreates it empty, changes a mode, makes a hardlink and a
// symlink. `bock diff` lists exactly those paths; the committed image and
// the exported-then-imported tarball show the same tree, owners, modes and
// links as the container saw; two commits with one --timestamp are equal.
void check_commit_roundtrip();
// The same change set made on fuse-overlayfs, bock-fuse and vfs (whose
// copy is compared with the image): the same diff, and the committed image
// shows what the container saw.
void check_commit_backends();
// A commit SIGKILLed at each named kill point leaves no image, and the
// next writer empties tmp/; an unchanged container adds no layer unless
// --include-empty.
void check_commit_crash_and_empty();

}  // namespace bock::test
