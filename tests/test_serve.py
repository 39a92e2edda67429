"""`make serve` (tools/serve.py): the clinic's LAN mode behind nginx, attacked and used for real.

One serve set-up (the same command `make serve` runs) on free ports in a temporary data dir with
users made by `posture users add` proves: nothing answers without a login (page, WebSocket,
/_stcore/*, uploads, a real /media URL of a logged-in session); the app works through the proxy in
Chromium; the security headers; the served certificate is the one made in the data dir; foreign
Origins are refused; the access log holds no query string, user name or id; 30 wrong logins end in
429s, and the right password is refused as well while the address is locked out.

Needs nginx (tools/serve.py installs Debian's package as root). Without it the module fails when
CI=true and is skipped otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.app_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    MEASURE_HANG_GUARD_S,
    NEEDS_CHROMIUM,
    RESULT,
    STARTUP_HANG_GUARD_S,
    UPLOADER,
    free_port,
    wait_for,
)

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT / "sample_images" / "yogait_tada3.jpg"
USER, PASSWORD = "reception", "a long clinic passphrase"
SECOND_USER, SECOND_PASSWORD = "locum", "another long passphrase"
WRONG_LOGINS = 30
NGINX_PATHS = ("/usr/sbin/nginx", "/usr/local/sbin/nginx")


def _nginx_available() -> bool:
    return any(os.access(p, os.X_OK) for p in NGINX_PATHS) or shutil.which("nginx") is not None


def _require_nginx() -> None:
    if _nginx_available() or (os.geteuid() == 0 and shutil.which("apt-get")):
        return  # present, or tools/serve.py installs it
    msg = "nginx is not installed and cannot be (not root): run `make serve` once as root"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(msg)
    pytest.skip(msg)


@dataclass(frozen=True)
class Serve:
    url: str
    port: int
    app_port: int
    data_dir: Path
    log: Path
    proc: subprocess.Popen[bytes]

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _ctx() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # self-signed: its fingerprint is checked in its own test
    return ctx


def request(serve: Serve, method: str, path: str, headers: dict[str, str] | None = None,
            body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPSConnection("127.0.0.1", serve.port, context=_ctx(), timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def _add_user(data_dir: Path, name: str, password: str) -> None:
    env = dict(os.environ, POSTURE_DATA_DIR=str(data_dir))
    subprocess.run([sys.executable, "-m", "posture.cli", "users", "add", name], input=password + "\n",
                   text=True, env=env, check=True, capture_output=True)


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    _require_nginx()
    data_dir = tmp_path_factory.mktemp("serve-data")
    _add_user(data_dir, USER, PASSWORD)
    _add_user(data_dir, SECOND_USER, SECOND_PASSWORD)
    port, app_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("POSTURE_ACCESS_PASSWORD", "POSTURE_DATABASE_URL", "SERVE_CERT", "SERVE_KEY")}
    env.update(POSTURE_DATA_DIR=str(data_dir), SERVE_ADDRESS="127.0.0.1", SERVE_PORT=str(port),
               SERVE_APP_PORT=str(app_port), SERVE_GUARD_PORT=str(free_port()), PYTHONUNBUFFERED="1")
    log = data_dir.with_name(data_dir.name + "-serve.log")
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, str(ROOT / "tools" / "serve.py")], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    s = Serve(f"https://127.0.0.1:{port}", port, app_port, data_dir, log, proc)
    try:
        deadline = time.monotonic() + STARTUP_HANG_GUARD_S
        while "posture is at https://" not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"tools/serve.py did not start:\n{s.log_tail()}")
            time.sleep(0.3)
        yield s
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


AUTH = {"Authorization": _basic(USER, PASSWORD)}
WS_HEADERS = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
              "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
              "Sec-WebSocket-Protocol": "streamlit"}


def test_the_test_ports_are_distinct_and_outside_the_ephemeral_range() -> None:
    """The proxy, the app and the guard each get their own port, and none that an outgoing
    connection could take first (a clean clone once failed: the app's port was not available)."""
    from tests.app_server import ephemeral_range, port_range_for_tests

    low, high = ephemeral_range()
    lo, hi = port_range_for_tests()
    ports = [free_port() for _ in range(200)]
    assert len(set(ports)) == len(ports)
    assert all(lo <= p <= hi for p in ports)
    assert all(not low <= p <= high for p in ports)


def test_every_path_needs_a_login(serve: Serve) -> None:
    for path in ("/", "/_stcore/health", "/_stcore/host-config", "/static/js/index.js", "/media/x.jpg"):
        status, headers, _ = request(serve, "GET", path)
        assert status == 401, path
        assert headers["www-authenticate"].startswith("Basic realm=")
    status, _, _ = request(serve, "GET", "/_stcore/stream", WS_HEADERS)
    assert status == 401
    status, _, _ = request(serve, "PUT", "/_stcore/upload_file/some-session/some-file", body=b"x" * 1000)
    assert status == 401
    # and the same paths answer once logged in (the 401s above are not a broken upstream)
    assert request(serve, "GET", "/", AUTH)[0] == 200
    assert request(serve, "GET", "/_stcore/health", AUTH)[0] == 200
    assert request(serve, "GET", "/_stcore/stream", {**AUTH, **WS_HEADERS})[0] == 101


def _listening(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp{,6}) listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            addr, hexport = local.split(":")
            if state == "0A" and int(hexport, 16) == port:
                found.add(addr)
    return found


def test_the_app_listens_on_loopback_only(serve: Serve) -> None:
    assert _listening(serve.app_port) == {"0100007F"}  # 127.0.0.1, nothing else (no ::, no 0.0.0.0)
    assert _listening(serve.port) == {"0100007F"}  # SERVE_ADDRESS=127.0.0.1 in this test


def test_nginx_workers_are_unprivileged(serve: Serve) -> None:
    master = int((serve.data_dir / "serve" / "nginx.pid").read_text())
    workers = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
                uid = int(next(ln for ln in (proc / "status").read_text().splitlines()
                               if ln.startswith("Uid:")).split()[1])
            except (OSError, StopIteration, ValueError):
                continue
            if ppid == master:
                workers.append(uid)
    assert workers, "no nginx worker found"
    assert all(uid != 0 for uid in workers), workers  # as root: nobody, or the data dir's owner


def test_security_headers_on_every_answer(serve: Serve) -> None:
    for status_wanted, headers_in in ((401, {}), (200, AUTH)):
        status, h, _ = request(serve, "GET", "/", headers_in)
        assert status == status_wanted
        csp = h["content-security-policy"]
        assert "frame-ancestors 'none'" in csp
        assert f"connect-src 'self' wss://127.0.0.1:{serve.port}" in csp
        assert "default-src 'self'" in csp
        assert h["x-frame-options"] == "DENY"
        assert h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "no-referrer"
        assert h["strict-transport-security"].startswith("max-age=")
        assert h.get("server") == "nginx"  # no version number
    # a component's document (the click-to-correct photo) may be framed by the app's page only
    _, h, _ = request(serve, "GET", "/component/x/index.html")
    assert "frame-ancestors 'self'" in h["content-security-policy"] and h["x-frame-options"] == "SAMEORIGIN"
    _, h, _ = request(serve, "GET", "/", AUTH)
    cookies = [v for k, v in h.items() if k == "set-cookie"]
    for c in cookies:
        assert "Secure" in c and "SameSite=Strict" in c, c


def test_the_served_certificate_is_the_one_made_in_the_data_dir(serve: Serve) -> None:
    made = serve.data_dir / "serve" / "cert.pem"
    assert made.is_file()
    assert oct((serve.data_dir / "serve" / "key.pem").stat().st_mode & 0o777) == "0o600"
    with socket.create_connection(("127.0.0.1", serve.port)) as raw, \
            _ctx().wrap_socket(raw, server_hostname="localhost") as tls:
        served = tls.getpeercert(binary_form=True)
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
    assert served is not None
    made_der = ssl.PEM_cert_to_DER_cert(made.read_text())
    assert hashlib.sha256(served).hexdigest() == hashlib.sha256(made_der).hexdigest()
    # and it is what tools/serve.py printed for the user to compare with the browser's
    printed = serve.log_tail().split("certificate SHA-256 ", 1)[1].split(")", 1)[0].replace(":", "")
    assert printed.lower() == hashlib.sha256(served).hexdigest()
    # plain HTTP on the TLS port is refused, not served
    conn = http.client.HTTPConnection("127.0.0.1", serve.port, timeout=30)
    conn.request("GET", "/", headers=AUTH)
    assert conn.getresponse().status == 400
    conn.close()


def test_a_foreign_origin_is_refused_before_streamlit(serve: Serve) -> None:
    for origin in ("null", "https://evil.example", f"http://127.0.0.1:{serve.port}"):
        status, _, _ = request(serve, "GET", "/_stcore/stream", {**AUTH, **WS_HEADERS, "Origin": origin})
        assert status == 403, origin
    same = f"https://127.0.0.1:{serve.port}"
    assert request(serve, "GET", "/_stcore/stream", {**AUTH, **WS_HEADERS, "Origin": same})[0] == 101
    assert "Did not auto detect external IP" not in serve.log_tail()


@pytest.mark.skipif(not CHROMIUM.exists(), reason=NEEDS_CHROMIUM)
def test_chromium_through_the_proxy_and_media_needs_the_login(serve: Serve) -> None:
    from playwright.sync_api import sync_playwright

    media: list[str] = []
    csp_violations: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(ignore_https_errors=True, viewport={"width": 1440, "height": 1000},
                                          http_credentials={"username": USER, "password": PASSWORD})
            page = context.new_page()
            page.on("request", lambda r: media.append(r.url) if "/media/" in r.url else None)
            page.on("console", lambda m: csp_violations.append(m.text)
                    if "Content Security Policy" in m.text else None)
            page.goto(serve.url)
            wait_for(page, UPLOADER, timeout_s=MEASURE_HANG_GUARD_S)
            page.locator(UPLOADER).set_input_files(str(PHOTO))
            wait_for(page, RESULT, timeout_s=MEASURE_HANG_GUARD_S)
            # the click-to-correct photo (a component in a same-origin iframe) rendered
            page.frame_locator('iframe[title*="streamlit_image_coordinates"]').first.locator("#image").wait_for(
                timeout=MEASURE_HANG_GUARD_S * 1000)
            page.wait_for_load_state("networkidle")
            assert media, "the result page loaded no /media/ URL"
            for url in media:
                path = url.split(str(serve.port), 1)[1]
                # the logged-in session's own media: 200 with the login, 401 without it
                assert request(serve, "GET", path, AUTH)[0] == 200, path
                assert request(serve, "GET", path)[0] == 401, path
        finally:
            browser.close()
    # The CSP may block what would leave the machine (e.g. Streamlit fetches a ":material/...:"
    # page icon from fonts.gstatic.com); it must not block anything the app serves itself.
    own = [v for v in csp_violations if not re.search(rf"'https?://(?!127\.0\.0\.1:{serve.port})", v)]
    assert not own, own


def test_access_log_holds_no_query_user_or_ids(serve: Serve) -> None:
    request(serve, "GET", "/?client=Jane+Doe&qsecret=s3cret", AUTH)
    request(serve, "GET", "/_stcore/upload_file/sess-1234/file-5678", AUTH)
    request(serve, "GET", "/media/0123456789abcdef.jpg?x=1")
    time.sleep(1)  # nginx writes its log line after the response
    text = (serve.data_dir / "serve" / "access.log").read_text()
    assert '"GET /" 200' in text
    for secret in ("Jane", "s3cret", "qsecret", "sess-1234", "file-5678", "0123456789abcdef", USER):
        assert secret not in text, secret


def test_users_changes_apply_without_restart(serve: Serve) -> None:
    second = {"Authorization": _basic(SECOND_USER, SECOND_PASSWORD)}
    assert request(serve, "GET", "/_stcore/health", second)[0] == 200  # now verified (and cached)
    env = dict(os.environ, POSTURE_DATA_DIR=str(serve.data_dir))
    subprocess.run([sys.executable, "-m", "posture.cli", "users", "remove", SECOND_USER], env=env,
                   check=True, capture_output=True)
    assert request(serve, "GET", "/_stcore/health", second)[0] == 401
    assert request(serve, "GET", "/_stcore/health", AUTH)[0] == 200


def test_zz_brute_force_turns_into_429_and_the_right_password_is_refused_too(serve: Serve) -> None:
    """Last in the module: it locks 127.0.0.1 out for the lockout window."""
    statuses = [request(serve, "GET", "/", {"Authorization": _basic(USER, f"guess number {i}")})[0]
                for i in range(WRONG_LOGINS)]
    assert set(statuses) <= {401, 429}
    first_429 = statuses.index(429)
    assert all(s == 429 for s in statuses[first_429:])
    assert statuses.count(429) >= WRONG_LOGINS // 2, statuses
    status, headers, _ = request(serve, "GET", "/", AUTH)
    assert status == 429  # checked before the password: a locked-out guesser learns nothing
    assert int(headers["retry-after"]) > 0
    # a normal page load of the SAME session before the lockout worked (the Chromium test above
    # loaded every asset); the lockout counts failed logins only, not requests


def test_make_runs_launcher_never_looks_up_the_external_ip(tmp_path: Path) -> None:
    """`make run` (tools/run_app.py, no proxy): a WebSocket with ``Origin: null`` is still refused by
    Streamlit's origin check, and that check no longer asks checkip.amazonaws.com (offline, the
    lookup would log "Did not auto detect external IP")."""
    import asyncio

    import websockets

    port = free_port()
    log = tmp_path / "run.log"
    env = {k: v for k, v in os.environ.items() if k != "POSTURE_ACCESS_PASSWORD"}
    env.update(POSTURE_DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1")
    with open(log, "wb") as out:
        launcher = [sys.executable, str(ROOT / "tools" / "run_app.py"), "--server.port", str(port)]
        proc = subprocess.Popen(launcher, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_HANG_GUARD_S
        while f"127.0.0.1:{port}" not in log.read_text(errors="replace"):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)

        async def ws_status(origin: str) -> int:
            try:
                async with websockets.connect(f"ws://127.0.0.1:{port}/_stcore/stream", origin=origin,
                                              subprotocols=["streamlit"], open_timeout=60):
                    return 101
            except websockets.InvalidStatus as exc:
                return int(exc.response.status_code)

        assert asyncio.run(ws_status("null")) == 403
        assert asyncio.run(ws_status("https://evil.example")) == 403
        assert asyncio.run(ws_status(f"http://127.0.0.1:{port}")) == 101
        time.sleep(0.5)
        text = log.read_text(errors="replace")
        assert "Rejecting WebSocket connection" in text  # the check ran ...
        assert "Did not auto detect external IP" not in text  # ... without the lookup
    finally:
        proc.terminate()
        proc.wait(timeout=30)
