#!/usr/bin/env bash
# Runs one integration test the way the suite requires:
#   run-test.sh rootless[:USER] TEST_BINARY [ARGS...]
#   run-test.sh root TEST_BINARY [ARGS...]
# rootless: as root, drops to USER (default bocktest) with a clean
#   environment, running the staged copy of the binaries (see
#   scripts/test-setup.sh); as a normal user, runs as that user.
# root: needs root; skipped otherwise.
# Every test gets its own BOCK_ROOT, BOCK_RUNROOT and HOME, so `ctest -j2`
# is safe; afterwards its session holder is stopped and its files removed.
# Exit 77 means skipped; under CI=true a skip is turned into a failure.
set -u
mode=${1:?mode}; shift
bin=${1:?test binary}; shift
stage=${BOCK_TEST_STAGE:-/var/tmp/bock-test}

skip() {
    echo "SKIPPED: $*" >&2
    if [ "${CI:-}" = true ]; then
        echo "FAIL: a skipped test fails the run under CI=true" >&2
        exit 1
    fi
    exit 77
}

user=${mode#*:}; [ "$user" = "$mode" ] && user=bocktest
mode=${mode%%:*}
me=$(id -u)

if [ "$mode" = root ] && [ "$me" != 0 ]; then
    skip "root tests need root"
fi

if [ "$me" = 0 ]; then
    [ -x "$stage/bin/$(basename "$bin")" ] || skip "stage $stage is missing: run scripts/test-setup.sh BUILD_DIR first"
    bindir=$stage/bin
    srcdir=$stage/src
else
    bindir=$(cd "$(dirname "$bin")" && pwd)
    srcdir=${BOCK_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
fi
test_bin=$bindir/$(basename "$bin")

tmp=$(mktemp -d /tmp/bock-t.XXXXXX)
chmod 755 "$tmp"
mkdir -p "$tmp/home" "$tmp/store" "$tmp/run"

cleanup() {
    local pidfile=$tmp/run/session/holder.pid
    if [ -f "$pidfile" ]; then
        kill -KILL "$(cut -d' ' -f1 "$pidfile")" 2>/dev/null
    fi
    if [ "$me" = 0 ] && [ "$mode" = root ] && [ -d "$tmp/store/networks" ] && declare -p envs >/dev/null 2>&1; then
        # Root's service networks are host bridges with nftables chains
        # (docs/networking.md, "Root: bridges on the host"), which removing
        # the store would leave on the host: a test that failed half-way
        # gets its containers and networks removed first.
        ids=$(env -i "${envs[@]}" "$bindir/bock" ps -aq 2>/dev/null)
        [ -n "$ids" ] && env -i "${envs[@]}" "$bindir/bock" rm -f $ids >/dev/null 2>&1
        env -i "${envs[@]}" "$bindir/bock" network prune -f >/dev/null 2>&1
    fi
    if [ "$me" = 0 ] && [ "$mode" = root ] && declare -p envs >/dev/null 2>&1; then
        # Other stores a test made in its scratch space (a puller's, a
        # second engine's): root's default network there is a host bridge
        # too, kept like docker0 until `network rm`.
        find "$tmp" -mindepth 2 -maxdepth 5 -type d -name networks 2>/dev/null | while read -r n; do
            [ "$n" = "$tmp/store/networks" ] && continue
            env -i "${envs[@]}" BOCK_ROOT="$(dirname "$n")" "$bindir/bock" network prune -f >/dev/null 2>&1
        done
    fi
    if [ "$me" = 0 ]; then
        # Unmount anything a failed test left behind before removing.
        grep -F " $tmp/" /proc/self/mountinfo | awk '{print $5}' | sort -r |
            while read -r m; do umount -l "$m" 2>/dev/null; done
        rm -rf "$tmp"
    else
        "$bindir/bock" unshare rm -rf "$tmp/store" "$tmp/run" >/dev/null 2>&1
        rm -rf "$tmp" 2>/dev/null
    fi
}
trap cleanup EXIT

envs=(PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME="$tmp/home" LANG=C.UTF-8
      BOCK_ROOT="$tmp/store" BOCK_RUNROOT="$tmp/run" BOCK_TEST_BIN="$bindir"
      BOCK_TEST_SRC="$srcdir" BOCK_TEST_TMP="$tmp" CI="${CI:-}")

if [ "$mode" = rootless ] && [ "$me" = 0 ]; then
    id -u "$user" >/dev/null 2>&1 || skip "user $user is missing: run scripts/test-setup.sh"
    chown -R "$user:" "$tmp"
    envs+=(USER="$user" LOGNAME="$user")
    setpriv --reuid="$user" --regid="$user" --init-groups \
        env -i "${envs[@]}" "$test_bin" "$@"
    rc=$?
else
    envs+=(USER="$(id -un)" LOGNAME="$(id -un)")
    env -i "${envs[@]}" "$test_bin" "$@"
    rc=$?
fi
if [ "$rc" = 77 ]; then
    skip "the test skipped itself (see its output)"
fi
exit "$rc"
