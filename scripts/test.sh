#!/usr/bin/env bash
# Builds Bock and runs every test: unit, rootless (as the unprivileged test
# users created by scripts/test-setup.sh) and root. Run as root for the
# whole suite; as a normal user the root tests are skipped (and under
# CI=true a skip fails the run).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BOCK_BUILD:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build" -j"$(nproc)"
cd "$build"
ctest --output-on-failure -j2 --timeout 600 "$@"
