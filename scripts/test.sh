#!/usr/bin/env bash
# Builds Bock with its tests and runs every test: unit, rootless (as the
# unprivileged test users created by scripts/test-setup.sh) and root. Run as
# root for the whole suite; as a normal user the root tests are skipped (and
# under CI=true a skip fails the run).
# Test builds differ from a user's build: BUILD_TESTING=ON (test binaries and
# test hooks), BOCK_WERROR=ON. ccache is used when installed; CCACHE_BASEDIR
# is the source directory so that two clones share their cache hits.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BOCK_BUILD:-build}
launcher=()
if command -v ccache >/dev/null; then
    export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
generator=()
if command -v ninja >/dev/null && [ ! -e "$build/CMakeCache.txt" ]; then
    generator=(-G Ninja)
fi
cmake -S . -B "$build" "${generator[@]}" "${launcher[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DBUILD_TESTING=ON -DBOCK_WERROR=ON
cmake --build "$build" -j"$(nproc)"
cd "$build"
ctest --output-on-failure -j2 "$@"
