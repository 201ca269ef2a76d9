#!/usr/bin/env python3
"""Prints an OCI archive's image as what a container would see: one line per
path of the flattened layers (type, mode, owner, size, content digest or
link target; a file hardlinked to others in the image ends with
`=FIRST`, the group's first path) and then the config fields `bock build` and `buildah bud` must
agree on, as sorted JSON. Used by tests/lib/build_scenarios.cpp to compare
the two tools' results.

usage: flatten_image.py ARCHIVE [--leftovers]
  --leftovers  drop the empty mount points buildah leaves (/etc/hostname,
               /etc/hosts, /etc/resolv.conf, /run) and buildah's own label
"""
import hashlib
import io
import json
import posixpath
import sys
import tarfile


def blob(t, digest):
    return t.extractfile("blobs/sha256/" + digest.split(":", 1)[1]).read()


def main():
    path = sys.argv[1]
    leftovers = "--leftovers" in sys.argv[2:]
    t = tarfile.open(path)
    index = json.loads(t.extractfile("index.json").read())
    manifest = json.loads(blob(t, index["manifests"][0]["digest"]))
    config = json.loads(blob(t, manifest["config"]["digest"]))
    tree = {}
    contents = {}
    group = {}  # path -> its hardlink group (the layer and the path the links name)
    for n, layer in enumerate(manifest["layers"]):
        lt = tarfile.open(fileobj=io.BytesIO(blob(t, layer["digest"])), mode="r:*")
        for e in lt.getmembers():
            p = posixpath.normpath("/" + e.name)
            d, base = posixpath.split(p)
            if base == ".wh..wh..opq":
                for k in [k for k in tree if k.startswith(d.rstrip("/") + "/")]:
                    del tree[k]
                continue
            if base.startswith(".wh."):
                gone = posixpath.join(d, base[4:])
                for k in [k for k in tree if k == gone or k.startswith(gone + "/")]:
                    del tree[k]
                continue
            if p == "/":
                continue
            group.pop(p, None)  # a later layer's entry replaces the file and its links
            if e.isfile():
                data = lt.extractfile(e).read()
                contents[p] = data
                what = ("f", len(data), hashlib.sha256(data).hexdigest()[:16])
            elif e.islnk():
                target = posixpath.normpath("/" + e.linkname)
                group[p] = group.setdefault(target, (n, target))
                data = contents.get(target, b"")
                contents[p] = data
                what = ("f", len(data), hashlib.sha256(data).hexdigest()[:16])
            elif e.issym():
                what = ("l", 0, e.linkname)
            elif e.isdir():
                what = ("d", 0, "")
            elif e.ischr() or e.isblk():
                what = ("c" if e.ischr() else "b", 0, "%d,%d" % (e.devmajor, e.devminor))
            else:
                what = ("p", 0, "")
            tree[p] = (what[0], "%04o" % (e.mode & 0o7777), e.uid, e.gid, what[1], what[2])
    if leftovers:
        for p in ("/etc/hostname", "/etc/hosts", "/etc/resolv.conf"):
            if p in tree and tree[p][0] == "f" and tree[p][4] == 0:
                del tree[p]
        if "/run" in tree and not any(k.startswith("/run/") for k in tree):
            del tree["/run"]
    members = {}
    for p, g in group.items():
        if p in tree:
            members.setdefault(g, []).append(p)
    for p in sorted(tree):
        g = members.get(group.get(p), [])
        print(p, *tree[p], *(["=" + min(g)] if len(g) > 1 else []))
    c = config.get("config") or {}
    fields = {}
    for k in ("Env", "Cmd", "Entrypoint", "WorkingDir", "User", "Labels", "ExposedPorts", "Volumes",
              "StopSignal", "Healthcheck", "OnBuild", "Shell"):
        v = c.get(k)
        if k == "Labels" and v:
            v = {lk: lv for lk, lv in v.items() if not (leftovers and lk == "io.buildah.version")}
        if v in (None, "", [], {}):
            continue
        fields[k] = v
    print("config", json.dumps(fields, sort_keys=True))


main()
