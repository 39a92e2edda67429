#!/usr/bin/env python3
"""`make serve`: posture on the clinic's LAN, behind nginx (HTTPS + login at the proxy).

    POSTURE_DATA_DIR=... .venv/bin/posture users add reception     # once: a user (password on stdin)
    SERVE_ADDRESS=0.0.0.0 make serve                                # then https://<this machine>:8443/

What runs (all in the foreground; Ctrl-C or SIGTERM stops all three):

* Streamlit on 127.0.0.1:SERVE_APP_PORT only (default 8502): never reachable from the LAN.
* the guard (``serve.py guard``) on 127.0.0.1:SERVE_GUARD_PORT (default 8503): nginx's auth_request
  target for EVERY request. It refuses an address with too many recent failed logins (nginx answers
  429) before looking at its password, then checks the Basic login against
  ``<data dir>/users.htpasswd`` (bcrypt, :class:`posture.users.Authenticator`).
* nginx on SERVE_ADDRESS:SERVE_PORT (default 127.0.0.1:8443) from a config generated in
  ``<data dir>/serve/`` (pid, logs, temp files there; no root needed): TLS with the certificate
  SERVE_CERT/SERVE_KEY, or a self-signed one made there on first start; the login on every path;
  security headers; an access log without query strings, user names or ids.

As root, a missing nginx is installed with apt-get (like chromium for the browser tests).
"""

from __future__ import annotations

import grp
import http.server
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from posture.store.engine import default_data_dir  # noqa: E402
from posture.users import DIR_MODE, LOCK_WINDOW_S, Authenticator, Verdict, read_users, users_path  # noqa: E402

TEMPLATE = ROOT / "deploy" / "nginx.conf.template"
HEADERS = ROOT / "deploy" / "security_headers.conf"
NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx")

DEFAULT_ADDRESS = "127.0.0.1"
DEFAULT_PORT = 8443
DEFAULT_APP_PORT = 8502
DEFAULT_GUARD_PORT = 8503
# Streamlit's server.maxUploadSize (.streamlit/config.toml) + room for the multipart envelope
MAX_UPLOAD_MB = 25
MAX_BODY_MB = MAX_UPLOAD_MB + 1
UNPRIVILEGED_USER = "nobody"  # nginx's workers when `make serve` runs as root and root owns the data dir
CERT_DAYS = 825  # the longest validity browsers accept for a TLS server certificate
STARTUP_TIMEOUT_S = 120.0


def log(msg: str) -> None:
    print(f"serve: {msg}", file=sys.stderr, flush=True)


# -- the guard -------------------------------------------------------------------------------------


def make_guard(port: int, auth: Authenticator) -> http.server.ThreadingHTTPServer:
    """nginx's auth_request target: 204 allow, 401 log in (counted when credentials were wrong),
    403 locked out (nginx answers 429). Never logs anything about a request."""

    class Guard(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/check":
                self.send_error(404)
                return
            verdict = auth.check(self.headers.get("Authorization"), self.headers.get("X-Posture-Client", ""))
            if verdict is Verdict.ALLOW:
                self.send_response(204)
            elif verdict is Verdict.LOCKED:
                self.send_response(403)
            else:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="posture", charset="UTF-8"')
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Guard)
    server.daemon_threads = True
    return server


def run_guard(port: int) -> None:
    server = make_guard(port, Authenticator(users_path()))
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()


# -- set-up ----------------------------------------------------------------------------------------


def find_nginx() -> str:
    for cand in (shutil.which("nginx"), *NGINX_CANDIDATES):
        if cand and os.access(cand, os.X_OK):
            return cand
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("nginx is missing: installing Debian's package (apt-get)")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        for pkg in ("nginx-light", "nginx"):
            if subprocess.run(["apt-get", "install", "-y", "-qq", pkg], env=env).returncode == 0:
                break
        for cand in NGINX_CANDIDATES:
            if os.access(cand, os.X_OK):
                return cand
    raise SystemExit("serve: nginx is not installed (as root, `make serve` installs it with apt-get)")


def ensure_certificate(serve_dir: Path, address: str) -> tuple[Path, Path]:
    """SERVE_CERT + SERVE_KEY when the clinic provides them, else a self-signed pair in serve_dir."""
    given_cert, given_key = os.environ.get("SERVE_CERT"), os.environ.get("SERVE_KEY")
    if given_cert or given_key:
        if not (given_cert and given_key and Path(given_cert).is_file() and Path(given_key).is_file()):
            raise SystemExit("serve: set both SERVE_CERT and SERVE_KEY to existing PEM files")
        return Path(given_cert).resolve(), Path(given_key).resolve()
    cert, key = serve_dir / "cert.pem", serve_dir / "key.pem"
    if cert.is_file() and key.is_file():
        return cert, key
    names = ["DNS:localhost", "IP:127.0.0.1", f"DNS:{socket.gethostname()}"]
    if address not in ("0.0.0.0", "::", "127.0.0.1", "localhost"):
        names.append(f"IP:{address}" if address.replace(".", "").isdigit() or ":" in address
                     else f"DNS:{address}")
    old = os.umask(0o077)
    try:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", str(key), "-out", str(cert), "-days", str(CERT_DAYS),
             "-subj", "/CN=posture (self-signed)", "-addext", "subjectAltName=" + ",".join(names)],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    finally:
        os.umask(old)
    log(f"made a self-signed certificate: {cert}")
    return cert, key


def fingerprint(cert: Path) -> str:
    out = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-fingerprint", "-sha256"],
                         check=True, capture_output=True, text=True).stdout
    return out.strip().split("=", 1)[1]


def render_config(serve_dir: Path, *, listen: str, app_port: int, guard_port: int, cert: Path,
                  key: Path, users_file: Path) -> Path:
    user_line = ""
    if os.geteuid() == 0:
        # Started as root: the master keeps root (the key, the port, the logs), the workers that
        # talk to the network run as the data dir's owner, or as "nobody" when root owns it. They
        # open no file: the guard reads the users file, and nothing is buffered to disk.
        owner = pwd.getpwuid(serve_dir.stat().st_uid)
        worker = owner if owner.pw_uid != 0 else pwd.getpwnam(UNPRIVILEGED_USER)
        user_line = f"user {worker.pw_name} {grp.getgrgid(worker.pw_gid).gr_name};"
    values = {
        "SERVE_DIR": str(serve_dir), "USER_LINE": user_line, "LISTEN": listen,
        "APP_PORT": str(app_port), "GUARD_PORT": str(guard_port), "CERT": str(cert), "KEY": str(key),
        "USERS_FILE": str(users_file), "MAX_BODY_MB": str(MAX_BODY_MB),
        "LOCK_WINDOW_S": str(int(LOCK_WINDOW_S)),
    }
    text = TEMPLATE.read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    if re.search(r"@[A-Z_]+@", text):
        raise SystemExit("serve: a placeholder of deploy/nginx.conf.template was not filled")
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (serve_dir / "tmp" / sub).mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    shutil.copyfile(HEADERS, serve_dir / "security_headers.conf")
    conf = serve_dir / "nginx.conf"
    conf.write_text(text, encoding="utf-8")
    return conf


def _name(p: subprocess.Popen[bytes]) -> str:
    """The program a child runs (its first argument), for a log line."""
    args = p.args
    first = args[0] if isinstance(args, (list, tuple)) and args else args
    return Path(os.fsdecode(first) if isinstance(first, (str, bytes)) else str(first)).name


def wait_port(port: int, procs: list[subprocess.Popen[bytes]], timeout_s: float,
              host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for p in procs:
            if p.poll() is not None:
                raise SystemExit(f"serve: {_name(p)} exited with status {p.returncode}")
        with socket.socket() as s:
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"serve: nothing listens on {host}:{port} after {timeout_s:.0f} s")


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "guard":
        run_guard(int(sys.argv[2]))
        return 0
    address = os.environ.get("SERVE_ADDRESS", DEFAULT_ADDRESS)
    port = int(os.environ.get("SERVE_PORT", DEFAULT_PORT))
    app_port = int(os.environ.get("SERVE_APP_PORT", DEFAULT_APP_PORT))
    guard_port = int(os.environ.get("SERVE_GUARD_PORT", DEFAULT_GUARD_PORT))
    data_dir = default_data_dir()
    users_file = users_path(data_dir)
    if not read_users(users_file):
        raise SystemExit(
            f"serve: no users in {users_file}; add one first: .venv/bin/posture users add NAME"
        )
    nginx = find_nginx()
    serve_dir = data_dir / "serve"
    serve_dir.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    cert, key = ensure_certificate(serve_dir, address)
    listen = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    conf = render_config(serve_dir, listen=listen, app_port=app_port, guard_port=guard_port,
                         cert=cert, key=key, users_file=users_file)
    subprocess.run([nginx, "-t", "-q", "-p", str(serve_dir), "-c", str(conf)], check=True)

    procs: list[subprocess.Popen[bytes]] = []

    def stop(*_: object) -> None:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        procs.append(subprocess.Popen([sys.executable, __file__, "guard", str(guard_port)]))
        procs.append(subprocess.Popen(
            [sys.executable, str(ROOT / "tools" / "run_app.py"), "--server.address", "127.0.0.1",
             "--server.port", str(app_port),
             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=dict(os.environ, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false"),
        ))
        wait_port(guard_port, procs, STARTUP_TIMEOUT_S)
        wait_port(app_port, procs, STARTUP_TIMEOUT_S)
        procs.append(subprocess.Popen([nginx, "-p", str(serve_dir), "-c", str(conf)]))
        wildcard = address in ("0.0.0.0", "::", "localhost")
        wait_port(port, procs, STARTUP_TIMEOUT_S, "127.0.0.1" if wildcard else address)
        shown = "<this machine's address>" if address in ("0.0.0.0", "::") else address
        log(f"posture is at https://{shown}:{port}/  (certificate SHA-256 {fingerprint(cert)})")
        log(f"users: {users_file}; logs: {serve_dir}/access.log, error.log; Ctrl-C stops")
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        dead = next(p for p in procs if p.poll() is not None)
        log(f"{_name(dead)} exited with status {dead.returncode}; stopping")
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop()


if __name__ == "__main__":
    sys.exit(main())
