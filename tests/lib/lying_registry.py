#!/usr/bin/env python3
"""A registry that lies, for Bock's hostile-input tests.

docker-registry verifies what is pushed to it, so content that does not
match its digests cannot be published there. This server answers the pull
side of the distribution API from a directory, byte for byte as written:

  DIR/<name>/manifests/<tag-or-digest>        the manifest body
  DIR/<name>/manifests/<ref>.type             its Content-Type (optional)
  DIR/<name>/manifests/<ref>.digest           a Docker-Content-Digest header (optional)
  DIR/blobs/<digest>                          a blob (any bytes)
  DIR/blobs/<digest>.endless                  serve zeros without end instead

Usage: lying_registry.py DIR PORTFILE
Listens on 127.0.0.1 at a free port and writes the port to PORTFILE once
it accepts connections.
"""
import http.server
import os
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    root = "."

    def log_message(self, *args):
        pass

    def send_file(self, path, ctype, extra=None, body=True):
        with open(path, "rb") as f:
            data = f.read()
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if body:
            self.wfile.write(data)

    def handle_any(self, body):
        path = self.path.split("?", 1)[0]
        if path in ("/v2", "/v2/"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            if body:
                self.wfile.write(b"{}")
            return
        parts = path.split("/")
        if len(parts) >= 5 and parts[1] == "v2" and parts[-2] == "manifests":
            name = "/".join(parts[2:-2])
            ref = parts[-1]
            base = os.path.join(self.root, name, "manifests", ref)
            if os.path.isfile(base):
                extra = {}
                if os.path.isfile(base + ".digest"):
                    extra["Docker-Content-Digest"] = open(base + ".digest").read().strip()
                ctype = "application/vnd.oci.image.manifest.v1+json"
                if os.path.isfile(base + ".type"):
                    ctype = open(base + ".type").read().strip()
                return self.send_file(base, ctype, extra, body)
        if len(parts) >= 5 and parts[1] == "v2" and parts[-2] == "blobs":
            blob = os.path.join(self.root, "blobs", parts[-1])
            if os.path.isfile(blob + ".endless"):
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                if body:
                    zeros = bytes(1 << 16)
                    try:
                        for _ in range(1 << 16):  # at most 4 GiB
                            self.wfile.write(zeros)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                return
            if os.path.isfile(blob):
                return self.send_file(blob, "application/octet-stream", None, body)
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        msg = b'{"errors":[{"code":"NAME_UNKNOWN","message":"not here"}]}'
        self.send_header("Content-Length", str(len(msg)))
        self.end_headers()
        if body:
            self.wfile.write(msg)

    def do_GET(self):
        self.handle_any(True)

    def do_HEAD(self):
        self.handle_any(False)


def main():
    Handler.root = sys.argv[1]
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tmp = sys.argv[2] + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, sys.argv[2])
    srv.serve_forever()


if __name__ == "__main__":
    main()
