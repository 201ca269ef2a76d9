#!/bin/sh
# The written filesystem cases of the layers issue, run against one storage
# backend through bock-layers-tool (fuse-layers' backend chain). Run as root
# of a user namespace with its own mount namespace:
#   fuse_overlay_cases.sh BIN_DIR WORK BACKEND full|single
# BACKEND: overlay, fuse-overlayfs, bock-fuse (vfs is not an overlay).
# `full`: a subordinate range is mapped (chown, owners, id shifting);
# `single`: only uid/gid 0 exist. Prints "ok NAME" / "FAIL NAME: ..." lines,
# then "done FAILS"; exits 1 on any failure.
set -u
bin=$1 work=$2 backend=$3 range=$4
T=$bin/bock-layers-tool
L1=$work/l1 L2=$work/l2 U=$work/u W=$work/w M=$work/m
fails=0
ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); }
check() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "expected [$2], got [$3]"; fi; }
# Cases where a peer backend is known to differ: reported, not failed.
#   known BACKENDS NAME WHY -- the next check of NAME on one of BACKENDS
known() { case " $1 " in *" $backend "*) known_name=$2 known_why=$3 ;; esac; }
known_name=
check_k() {
    if [ "$known_name" = "$1" ] && [ "$2" != "$3" ]; then
        echo "known $1: $known_why (expected [$2], got [$3])"
    else
        check "$@"
    fi
    known_name=
}
there() { if [ -e "$1" ] || [ -L "$1" ]; then echo present; else echo absent; fi; }
words() { tr '\n' ' ' | sed 's/ $//'; }
# Overlay's xattrs: user.* in a user namespace, trusted.* as real root (in
# the initial user namespace), as bock-fuse-overlay and the engine choose.
if grep -Eq '^ *0 +0 +4294967295' /proc/self/uid_map; then ux= xprefix=trusted; else ux=--userxattr xprefix=user; fi
mount_root() {  # DRIVER UPPER WORK [extra tool args...] -- CMD...
    drv=$1 up=$2 wk=$3; shift 3
    "$T" mount --driver "$drv" $ux --helper-dir "$bin" --lower "$L1" --lower "$L2" \
        --upper "$up" --work "$wk" --target "$M" "$@"
}

make_layers() {
    rm -rf "$work"; mkdir -p "$L1" "$L2" "$U" "$W" "$M"
    echo one >"$L1/f1"
    mkdir "$L1/d1"; echo a >"$L1/d1/a"; echo b >"$L1/d1/b"
    echo link >"$L1/h1"; ln "$L1/h1" "$L1/h2"
    echo owned >"$L1/owned"; chmod 0640 "$L1/owned"
    [ "$range" = full ] && chown 1000:1000 "$L1/owned"
    mkdir "$L1/opq"; echo old >"$L1/opq/old1"
    echo gone >"$L1/gone"
    mkdir -p "$L1/ren/sub"; echo c1 >"$L1/ren/c1"; echo c2 >"$L1/ren/c2"; echo s >"$L1/ren/sub/s"
    head -c 1048576 /dev/zero >"$L1/big"
    ln -s f1 "$L1/s1"
    echo x >"$L1/xa"; "$T" xattr set "$L1/xa" user.test hello
    mkdir "$L1/dover"
    mknod "$L2/gone" c 0 0
    mkdir "$L2/opq"; echo new >"$L2/opq/new1"; "$T" xattr set "$L2/opq" $xprefix.overlay.opaque y
    echo two >"$L2/f2"; echo ra >"$L2/ra"; echo rb >"$L2/rb"
    mkdir "$L2/dsrc"; echo ds >"$L2/dsrc/f"
}

cases() {  # on the mounted root $M
    check read one "$(cat "$M/f1")"
    check whiteout-hides absent "$(there "$M/gone")"
    check opaque-hides new1 "$(ls "$M/opq" | words)"
    check symlink f1 "$(readlink "$M/s1")"
    chmod 600 "$M/f1"; check chmod 600 "$(stat -c %a "$M/f1")"
    check chmod-lower-intact 644 "$(stat -c %a "$L1/f1")"
    if [ "$range" = full ]; then
        chown 1234:2345 "$M/f1"; check chown 1234:2345 "$(stat -c %u:%g "$M/f1")"
        check owners "1000:1000 640" "$(stat -c '%u:%g %a' "$M/owned")"
    fi
    ln "$M/f2" "$M/f2link"; check link-nlink 2 "$(stat -c %h "$M/f2")"
    known overlay link-inode "kernel overlayfs shows the two names of a file linked after copy-up with different inode numbers (the old name keeps its lower one)"
    check_k link-inode "$(stat -c %i "$M/f2")" "$(stat -c %i "$M/f2link")"
    echo more >>"$M/h1"
    why="kernel overlayfs breaks hard links on copy-up without index=on (not available with userxattr)"
    known overlay hardlink-copyup-inode "$why"
    check_k hardlink-copyup-inode "$(stat -c %i "$M/h1")" "$(stat -c %i "$M/h2")"
    known overlay hardlink-copyup-nlink "$why"
    check_k hardlink-copyup-nlink "2 2" "$(stat -c %h "$M/h1") $(stat -c %h "$M/h2")"
    known overlay hardlink-copyup-data "$why"
    check_k hardlink-copyup-data "link more" "$(cat "$M/h2" | words)"
    check hardlink-lower-intact link "$(cat "$L1/h2")"
    mv "$M/f1" "$M/f1new"; check rename-file "absent one" "$(there "$M/f1") $(cat "$M/f1new")"
    mv "$M/ra" "$M/rb"; check rename-over "ra absent" "$(cat "$M/rb") $(there "$M/ra")"
    echo changed >"$M/ren/c1"
    mv "$M/ren" "$M/ren2"
    check rename-dir "absent changed c2 s" "$(there "$M/ren") $(cat "$M/ren2/c1") $(cat "$M/ren2/c2") $(cat "$M/ren2/sub/s")"
    check rename-dir-list "c1 c2 sub" "$(ls "$M/ren2" | words)"
    mv -T "$M/dsrc" "$M/dover"; check rename-dir-over "ds absent" "$(cat "$M/dover/f") $(there "$M/dsrc")"
    rm "$M/d1/a"; check unlink "absent a" "$(there "$M/d1/a") $(cat "$L1/d1/a")"
    check rmdir-notempty kept "$(rmdir "$M/d1" 2>/dev/null && echo removed || echo kept)"
    rm "$M/d1/b"; rmdir "$M/d1"; check rmdir absent "$(there "$M/d1")"
    mkdir "$M/d1"; check mkdir-over-whiteout "" "$(ls -A "$M/d1")"
    truncate -s 3 "$M/big"; check truncate-shrink 3 "$(stat -c %s "$M/big")"
    truncate -s 10000 "$M/big"; check truncate-grow 10000 "$(stat -c %s "$M/big")"
    check truncate-lower-intact 1048576 "$(stat -c %s "$L1/big")"
    touch -m -d @981173106 "$M/f2"; check utimens-mtime 981173106 "$(stat -c %Y "$M/f2")"
    touch -a -d @981173000 "$M/f2"; check utimens-atime 981173000 "$(stat -c %X "$M/f2")"
    check xattr-lower hello "$("$T" xattr get "$M/xa" user.test)"
    "$T" xattr set "$M/xa" user.new val; check xattr-set val "$("$T" xattr get "$M/xa" user.new)"
    "$T" xattr rm "$M/xa" user.test
    check xattr-rm user.new "$("$T" xattr list "$M/xa" | grep '^user\.' | words)"
    check xattr-markers-hidden "" "$("$T" xattr list "$M/opq" | grep overlay)"
    mkfifo "$M/fifo"; check mkfifo fifo "$(stat -c %F "$M/fifo")"
    mknod "$M/fifo2" p; check mknod-fifo fifo "$(stat -c %F "$M/fifo2")"
    echo n >"$M/newfile"; check create "n 0:0" "$(cat "$M/newfile") $(stat -c %u:%g "$M/newfile")"
    ln -s newfile "$M/newlink"; check symlink-create n "$(cat "$M/newlink")"
    echo back >"$M/gone"; check create-over-whiteout back "$(cat "$M/gone")"
    check lower-intact "one gone old1" "$(cat "$L1/f1") $(cat "$L1/gone") $(ls "$L1/opq")"
}

readback() {  # the upper written by $backend, mounted again by kernel overlayfs
    check rb-rename-file "absent one 600" "$(there "$M/f1") $(cat "$M/f1new") $(stat -c %a "$M/f1new")"
    known fuse-overlayfs rb-rmdir-mkdir "fuse-overlayfs marks opaque directories with a .wh..wh..opq file, which kernel overlayfs does not read"
    check_k rb-rmdir-mkdir "" "$(ls -A "$M/d1" | words)"
    check rb-rename-dir "absent changed c2 s" "$(there "$M/ren") $(cat "$M/ren2/c1") $(cat "$M/ren2/c2") $(cat "$M/ren2/sub/s")"
    check rb-rename-dir-over "f" "$(ls "$M/dover" | words)"
    known "overlay fuse-overlayfs" rb-hardlink "the hard link was broken on copy-up (see hardlink-copyup)"
    check_k rb-hardlink "$(stat -c %i "$M/h1") 2 link more" "$(stat -c %i "$M/h2") $(stat -c %h "$M/h2") $(cat "$M/h2" | words)"
    check rb-whiteout-recreated back "$(cat "$M/gone")"
    check rb-opaque new1 "$(ls "$M/opq" | words)"
    check rb-rename-over "ra absent" "$(cat "$M/rb") $(there "$M/ra")"
    check rb-xattr val "$("$T" xattr get "$M/xa" user.new)"
    check rb-truncate 10000 "$(stat -c %s "$M/big")"
}

stress() {
    mkdir "$M/fio" "$M/sng"
    timeout 300 fio --name=verify --directory="$M/fio" --numjobs=4 --size=16m --bs=4k --rw=randwrite \
        --ioengine=psync --verify=crc32c --do_verify=1 --verify_fatal=1 --group_reporting >"$work/fio.log" 2>&1
    check fio-verify-4-writers 0 "$?"
    timeout 120 stress-ng --temp-path "$M/sng" --hdd 2 --hdd-bytes 4m --dir 1 --rename 1 --link 1 \
        --timeout 5s --verify >"$work/stress.log" 2>&1
    check stress-ng-5s 0 "$?"
    [ "$fails" = 0 ] || tail -n 20 "$work/fio.log" "$work/stress.log"
}

idshift() {  # container ids 0-999 are 1000-1999 on disk and the reverse
    rm -rf "$work"; mkdir -p "$L1" "$L2" "$U" "$W" "$M"
    echo a >"$L1/own1000"; chown 1000:1000 "$L1/own1000"
    echo b >"$L1/own0"
    map=0:1000:1000:1000:0:1000
    mount_root "$backend" "$U" "$W" --uidmapping $map --gidmapping $map -- sh -c '
        M=$1; stat -c "shift-lower-1000 %u:%g" "$M/own1000"; stat -c "shift-lower-0 %u:%g" "$M/own0"
        echo n >"$M/new"; stat -c "shift-new-shown %u:%g" "$M/new"
        chown 5:6 "$M/own0"; stat -c "shift-chown-shown %u:%g" "$M/own0"' - "$M" >"$work/shift.out" 2>&1
    check shift-mount 0 "$?"
    check shift-lower-1000 0:0 "$(sed -n 's/^shift-lower-1000 //p' "$work/shift.out")"
    check shift-lower-0 1000:1000 "$(sed -n 's/^shift-lower-0 //p' "$work/shift.out")"
    check shift-new-shown 0:0 "$(sed -n 's/^shift-new-shown //p' "$work/shift.out")"
    check shift-new-on-disk 1000:1000 "$(stat -c %u:%g "$U/new")"
    check shift-chown-shown 5:6 "$(sed -n 's/^shift-chown-shown //p' "$work/shift.out")"
    check shift-chown-on-disk 1005:1006 "$(stat -c %u:%g "$U/own0")"
    check shift-lower-intact 0:0 "$(stat -c %u:%g "$L1/own0")"
    # Not symmetric: fuse-overlayfs's direction, a file stored as C shows as H.
    mkdir -p "$work/u2" "$work/w2"
    mount_root "$backend" "$work/u2" "$work/w2" --uidmapping 0:100:10 --gidmapping 0:100:10 -- sh -c '
        M=$1; stat -c "shift1-0 %u:%g" "$M/own0"; stat -c "shift1-1000 %u:%g" "$M/own1000"' - "$M" >"$work/shift1.out" 2>&1
    check shift1-mount 0 "$?"
    check shift1-stored-0 100:100 "$(sed -n 's/^shift1-0 //p' "$work/shift1.out")"
    check shift1-unmapped 65534:65534 "$(sed -n 's/^shift1-1000 //p' "$work/shift1.out")"
}

stale() {  # a FUSE process killed with SIGKILL: the next command recovers
    rm -rf "$work"; mkdir -p "$L1" "$L2" "$U" "$W" "$M"; echo a >"$L1/f"
    mount_root "$backend" "$U" "$W" --keep >/dev/null
    pid=$(cut -d' ' -f1 "$M.fuse.pid")
    kill -KILL "$pid"
    i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    check stale-dead-mount fails "$(cat "$M/f" 2>/dev/null || echo fails)"
    check stale-recover recovered "$("$T" recover "$M")"
    check stale-unmounted 0 "$(grep -c " $M " /proc/self/mountinfo)"
    check stale-recover-again nothing "$("$T" recover "$M")"
    check stale-pid-file absent "$(there "$M.fuse.pid")"
}

sigterm() {  # bock-fuse-overlay itself: ready byte once live, unmounts on SIGTERM
    rm -rf "$work"; mkdir -p "$L1" "$U" "$W" "$M"; echo a >"$L1/f"
    exec 5>"$work/ready"
    "$bin/bock-fuse-overlay" -o "lowerdir=$L1,upperdir=$U,workdir=$W,ready_fd=5" "$M" & pid=$!
    exec 5>&-
    i=0; while [ ! -s "$work/ready" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
    check sigterm-ready "1 a" "$(cat "$work/ready") $(cat "$M/f")"
    kill -TERM $pid; wait $pid
    check sigterm-exit 0 "$?"
    check sigterm-unmounted 0 "$(grep -c " $M " /proc/self/mountinfo)"
}

case "${5:-all}" in
cases) cases; echo "done $fails"; exit $((fails != 0)) ;;
readback) readback; echo "done $fails"; exit $((fails != 0)) ;;
stress) stress; echo "done $fails"; exit $((fails != 0)) ;;
esac

make_layers
out=$(mount_root "$backend" "$U" "$W" -- sh "$0" "$bin" "$work" "$backend" "$range" cases 2>&1)
echo "$out" | grep -v '^done ' | grep -v '^backend \|^why '
echo "$out" | grep -q '^backend '"$backend"'$' || fail mounted-with-$backend "$(echo "$out" | head -3)"
echo "$out" | grep -q '^done 0$' || fails=$((fails + 1))
check unmounted 0 "$(grep -c " $M " /proc/self/mountinfo)"
# The same upper under kernel overlayfs.
out=$(mount_root overlay "$U" "$W" -- sh "$0" "$bin" "$work" "$backend" "$range" readback 2>&1)
echo "$out" | grep -v '^done ' | grep -v '^backend \|^why '
echo "$out" | grep -q '^done 0$' || fails=$((fails + 1))
mkdir -p "$work/u2" "$work/w2"
out=$(mount_root "$backend" "$work/u2" "$work/w2" -- sh "$0" "$bin" "$work" "$backend" "$range" stress 2>&1)
echo "$out" | grep -v '^done ' | grep -v '^backend \|^why '
echo "$out" | grep -q '^done 0$' || fails=$((fails + 1))
if [ "$backend" != overlay ]; then
    [ "$range" = full ] && idshift
    stale
    [ "$backend" = bock-fuse ] && sigterm
fi
echo "done $fails"
exit $((fails != 0))
