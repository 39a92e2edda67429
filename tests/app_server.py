"""A real `streamlit run app.py` on a free local port, and Debian chromium's launch arguments, for
the browser tests (tests/test_browser.py, tests/test_load.py)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
# never `playwright install`: Debian's chromium, with everything that would phone home switched off
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
NEEDS_CHROMIUM = "needs Debian chromium at /usr/bin/chromium (run `make browser-deps`)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def app_server(data_dir: Path, startup_s: float = 60.0) -> Iterator[str]:
    """Start the app with its own data dir (no access password, no database URL); yield its URL;
    always stop it."""
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("POSTURE_ACCESS_PASSWORD", "POSTURE_DATABASE_URL")}
    env.update(STREAMLIT_BROWSER_GATHER_USAGE_STATS="false", POSTURE_DATA_DIR=str(data_dir))
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + startup_s
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                pytest.fail(f"streamlit did not start:\n{out[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
