#!/usr/bin/env bash
# One-time setup for the test suite, run as root (ctest runs it first as the
# fixture "bock_test_setup"; it is idempotent):
#  - two unprivileged users: bocktest (with a subuid/subgid range) and
#    bocknorange (without one);
#  - /dev/net/tun and /dev/fuse mode 666, as common distributions ship them;
#  - the built binaries and fixtures copied to a stage directory that those
#    users can read and execute (a clone under a 0700 directory is not).
# Usage: scripts/test-setup.sh BUILD_DIR [STAGE_DIR]
set -euo pipefail
build=${1:?usage: test-setup.sh BUILD_DIR [STAGE_DIR]}
stage=${2:-/var/tmp/bock-test}
src=$(cd "$(dirname "$0")/.." && pwd)

if [ "$(id -u)" != 0 ]; then
    echo "test-setup: not root: rootless tests run as $(id -un) in place" >&2
    exit 0
fi

add_user() {  # name
    if ! id -u "$1" >/dev/null 2>&1; then
        useradd --create-home --shell /bin/bash "$1"
    fi
}
add_user bocktest
add_user bocknorange
# bocktest: a range (useradd adds one on Debian; make sure it is there).
for f in /etc/subuid /etc/subgid; do
    touch "$f"
    if ! grep -q '^bocktest:' "$f"; then
        echo "bocktest:300000:65536" >>"$f"
    fi
    sed -i '/^bocknorange:/d' "$f"
done

for dev in /dev/net/tun /dev/fuse; do
    [ -e "$dev" ] && chmod 666 "$dev"
done

# Stage binaries and fixtures where the test users can reach them.
rm -rf "$stage.new"
mkdir -p "$stage.new"
cp -a "$build/bin" "$stage.new/bin"
mkdir -p "$stage.new/src"
cp -a "$src/tests" "$stage.new/src/tests"
chmod -R a+rX "$stage.new"
rm -rf "$stage"
mv "$stage.new" "$stage"
chmod 755 "$stage"
echo "test-setup: users bocktest, bocknorange; stage $stage"
