# A token server for docker-registry's `auth: token` (distribution 2.8):
# GET /token (Basic credentials or anonymous) and POST /token (OAuth2
# refresh_token / password grants) answer {"token", "access_token"}: an
# RS256 JWT with the signing certificate in its x5c header, which the
# registry checks against its rootcertbundle.
# Usage: token_server.py PORTFILE KEY CERT USER PASSWORD ISSUER SERVICE
import base64, json, sys, time, os, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

portfile, keyfile, certfile, user, password, issuer, service = sys.argv[1:8]
key = serialization.load_pem_private_key(open(keyfile, "rb").read(), None)
cert = x509.load_pem_x509_certificate(open(certfile, "rb").read())
x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
log = open(portfile + ".log", "a")


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def token(account, scopes):
    access = []
    for s in scopes:
        parts = s.split(":")
        if len(parts) == 3 and account:
            access.append({"type": parts[0], "name": parts[1], "actions": parts[2].split(",")})
    now = int(time.time())
    header = {"typ": "JWT", "alg": "RS256", "x5c": [x5c]}
    claims = {"iss": issuer, "sub": account, "aud": service, "exp": now + 300, "nbf": now - 10,
              "iat": now, "jti": b64url(os.urandom(12)), "access": access}
    signing = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    sig = key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing + "." + b64url(sig)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        account = ""
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            u, _, p = base64.b64decode(auth[6:]).decode().partition(":")
            if (u, p) != (user, password):
                log.write("GET refused %s\n" % u); log.flush()
                return self.answer(401, {"errors": [{"code": "UNAUTHORIZED", "message": "wrong credentials"}]})
            account = u
        log.write("GET %s %s\n" % (account or "-", " ".join(q.get("scope", [])))); log.flush()
        t = token(account, q.get("scope", []))
        self.answer(200, {"token": t, "access_token": t, "expires_in": 300})

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(n).decode())
        grant = form.get("grant_type", [""])[0]
        ok = (grant == "refresh_token" and form.get("refresh_token", [""])[0] == "refresh-" + user) or \
             (grant == "password" and form.get("username", [""])[0] == user and form.get("password", [""])[0] == password)
        log.write("POST %s %s\n" % (grant, "ok" if ok else "refused")); log.flush()
        if not ok:
            return self.answer(401, {"error": "invalid_grant"})
        scopes = " ".join(form.get("scope", [])).split()
        t = token(user, scopes)
        self.answer(200, {"access_token": t, "refresh_token": "refresh-" + user, "expires_in": 300})


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(portfile + ".tmp", portfile)
server.serve_forever()
