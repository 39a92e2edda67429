"""A real `streamlit run app.py` on a free local port, Debian chromium's launch arguments, and the
waits of the browser tests (tests/test_browser.py, tests/test_load.py, benchmarks/load.py).

The tests PROVE instead of waiting:

* the server's stdout+stderr go to a log file (never a pipe nobody reads); when a test that uses an
  :class:`AppServer` fails, the tail of that log is attached to its report (the
  ``pytest_runtest_makereport`` hook in tests/conftest.py, which looks for ``log_tail``);
* :func:`wait_for` / :func:`await_for` wait for the thing the test wants OR an error box
  (``st.error``, ``st.exception``) OR the server process dying, and fail at once on the latter two,
  with the error box's text;
* time limits are sized from a single upload -> result measured on the same server in the same run
  (:func:`measure_single_session` -> :class:`Budget`), not from a constant sized on an idle machine.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
# never `playwright install`: Debian's chromium, with everything that would phone home switched off
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
NEEDS_CHROMIUM = "needs Debian chromium at /usr/bin/chromium (run `make browser-deps`)"

UPLOADER = '[data-testid="stFileUploaderDropzoneInput"]'
# a measurement card is Streamlit's st.metric: its label and its value (the card's fmt_value text)
CARD = '[data-testid="stMetric"]'
CARD_LABEL = '[data-testid="stMetricLabel"]'
CARD_VALUE = '[data-testid="stMetricValue"]'
RESULT = CARD_VALUE  # a measurement card: the analysis is on the page
ERROR_BOXES = '[data-testid="stException"], [data-testid="stAlertContentError"]'

# --- time limits -------------------------------------------------------------------------------
# A step that needs the model may take RESULT_SLACK times the single-session upload -> result
# measured in the same run, times the number of sessions that share the server's CPUs at that
# moment (the whole work of N analyses, as if fully serialised); never less than FLOOR_S. The slack
# covers the noise of a shared 2-core machine between the measurement and the step.
RESULT_SLACK = 3.0
FLOOR_S = 20.0  # a page load, a rerun without model passes, a download
# Only a guard against a hang while MEASURING (a broken app fails at once on its error box, a dead
# server on its exit); on a working app the measured run takes a few seconds.
MEASURE_HANG_GUARD_S = 300.0
STARTUP_HANG_GUARD_S = 120.0  # likewise for `streamlit run` (it fails at once if the process exits)
POLL_S = 0.2
LOG_TAIL_CHARS = 4000


@dataclass(frozen=True)
class Budget:
    """Time limits derived from ``single_s``, one upload -> result measured on this server."""

    single_s: float

    def limit_s(self, sessions: int = 1) -> float:
        return max(FLOOR_S, RESULT_SLACK * sessions * self.single_s)

    def limit_ms(self, sessions: int = 1) -> float:
        return 1000.0 * self.limit_s(sessions)

    @property
    def step_ms(self) -> float:
        """A step without model passes (page load, rerun, download)."""
        return 1000.0 * max(FLOOR_S, RESULT_SLACK * self.single_s)


class AppFailed(AssertionError):
    """The page showed an error box, or the server process exited."""


@dataclass(frozen=True)
class AppServer:
    """A running app: its URL, its clinic data dir, its log file and its process."""

    url: str
    data_dir: Path
    log: Path
    proc: subprocess.Popen[bytes]

    def __str__(self) -> str:
        return self.url

    def log_tail(self, chars: int = LOG_TAIL_CHARS) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError as exc:
            return f"(log unreadable: {exc})"
        return text[-chars:]

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise AppFailed(f"the app server exited with status {self.proc.returncode}:\n{self.log_tail()}")


# Ports for the test servers come from outside the machine's ephemeral range (Linux: 32768-60999
# by default): a port that bind(("", 0)) handed out and released there can be taken, before the
# server binds it, by the local end of any outgoing connection (the store's PostgreSQL, the browser)
# or be handed out again by the next bind(0); a clean clone once failed with "Port ... is not
# available" that way.
EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST_TEST_PORT = 20000
_handed_out: set[int] = set()
_ports = random.Random(os.getpid() ^ time.time_ns())


def ephemeral_range() -> tuple[int, int]:
    """The kernel's range for bind(0) and outgoing connections (Linux's default if unreadable)."""
    try:
        low, high = (int(v) for v in EPHEMERAL_RANGE_FILE.read_text().split())
    except (OSError, ValueError):
        return 32768, 60999
    return low, high


def port_range_for_tests() -> tuple[int, int]:
    """Where :func:`free_port` draws from: below the ephemeral range, or above it when that leaves
    more room."""
    low, high = ephemeral_range()
    below, above = (LOWEST_TEST_PORT, low - 1), (high + 1, 65535)
    return below if below[1] - below[0] >= above[1] - above[0] else above


def free_port() -> int:
    """A port on 127.0.0.1 that binds now, outside the ephemeral range, never the same twice in
    this test run."""
    lo, hi = port_range_for_tests()
    for _ in range(1000):
        port = _ports.randint(lo, hi) if hi > lo else 0
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            port = int(s.getsockname()[1])  # 0 (no room outside the range): the kernel's choice
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port in {lo}-{hi}")


@contextlib.contextmanager
def app_server(data_dir: Path, log: Path | None = None, env: dict[str, str] | None = None,
               startup_s: float = STARTUP_HANG_GUARD_S) -> Iterator[AppServer]:
    """Start the app with its own data dir (no access password, no database URL), its stdout and
    stderr in ``log`` (default: ``data_dir/../<dir name>-server.log``); yield it; always stop it.
    ``env`` adds variables for the server process."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log = log or data_dir.with_name(data_dir.name + "-server.log")
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("POSTURE_ACCESS_PASSWORD", "POSTURE_DATABASE_URL")}
    full_env.update(STREAMLIT_BROWSER_GATHER_USAGE_STATS="false", POSTURE_DATA_DIR=str(data_dir),
                    PYTHONUNBUFFERED="1")
    full_env.update(env or {})
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.headless", "true"],
            cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT,
        )
    server = AppServer(f"http://localhost:{port}", data_dir, log, proc)
    try:
        deadline = time.monotonic() + startup_s
        while True:
            try:
                with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait(timeout=10)
                pytest.fail(f"streamlit did not start (log {log}):\n{server.log_tail()}")
            time.sleep(0.3)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# --- waiting for a result or an error ------------------------------------------------------------
# One page probe for the sync and the async API: the first error box's text, else whether the
# wanted selector is on the page (and, when given, whether its text contains ``text``).
_PROBE_JS = """([errors, wanted, text]) => {
  const err = document.querySelector(errors);
  if (err) return {error: (err.innerText || err.textContent || '').trim() || '(empty error box)'};
  const hits = [...document.querySelectorAll(wanted)];
  const ok = hits.some(e => text === null || (e.innerText || e.textContent || '').includes(text));
  return {ok: ok};
}"""


def _verdict(probe: dict[str, Any], server: AppServer | None, what: str) -> bool:
    if "error" in probe:
        raise AppFailed(f"error box on the page while waiting for {what}: {probe['error']}")
    if server is not None:
        server.check_alive()
    return bool(probe.get("ok"))


def wait_for(page: Any, selector: str = RESULT, *, timeout_s: float, server: AppServer | None = None,
             text: str | None = None) -> float:
    """Sync Playwright: wait until ``selector`` (containing ``text``) is on the page; fail at once
    on an error box or a dead server; fail after ``timeout_s``. Returns the seconds waited."""
    t0 = time.monotonic()
    what = f"{selector!r}" + (f" with {text!r}" if text else "")
    while not _verdict(page.evaluate(_PROBE_JS, [ERROR_BOXES, selector, text]), server, what):
        if time.monotonic() - t0 > timeout_s:
            raise AssertionError(f"no {what} after {timeout_s:.0f} s (and no error box)")
        page.wait_for_timeout(POLL_S * 1000)
    return time.monotonic() - t0


async def await_for(page: Any, selector: str = RESULT, *, timeout_s: float,
                    server: AppServer | None = None, text: str | None = None) -> float:
    """:func:`wait_for` for Playwright's async API."""
    t0 = time.monotonic()
    what = f"{selector!r}" + (f" with {text!r}" if text else "")
    while not _verdict(await page.evaluate(_PROBE_JS, [ERROR_BOXES, selector, text]), server, what):
        if time.monotonic() - t0 > timeout_s:
            raise AssertionError(f"no {what} after {timeout_s:.0f} s (and no error box)")
        await page.wait_for_timeout(POLL_S * 1000)
    return time.monotonic() - t0


def wait_until(page: Any, ready: Callable[[], bool], *, timeout_s: float, what: str,
               server: AppServer | None = None) -> float:
    """Sync Playwright: wait until ``ready()``; fail at once on an error box or a dead server."""
    t0 = time.monotonic()
    while True:
        if errors := error_text(page):
            raise AppFailed(f"error box on the page while waiting for {what}: {errors}")
        if server is not None:
            server.check_alive()
        if ready():
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout_s:
            raise AssertionError(f"no {what} after {timeout_s:.0f} s (and no error box)")
        page.wait_for_timeout(POLL_S * 1000)


def wait_settled(page: Any, *, timeout_s: float, server: AppServer | None = None) -> float:
    """Sync Playwright: wait for the page's rerun to finish (Streamlit's status widget gone). A click
    on a button that a rerun is replacing acts on the page as it was: it may be lost, or a download
    carries the data of the run before."""
    status = page.locator('[data-testid="stStatusWidget"]')
    return wait_until(page, lambda: status.count() == 0 or not status.first.is_visible(),
                      timeout_s=timeout_s, what="the page's rerun to finish", server=server)


def error_text(page: Any) -> str:
    """The text of every error box on the page ('' when there is none) - sync API."""
    return "\n".join(str(t) for t in page.locator(ERROR_BOXES).all_inner_texts())


def measure_single_session(server: AppServer, photo: Path) -> Budget:
    """One browser session alone on ``server``: the seconds from the upload of ``photo`` to its
    first measurement card (its first analysis on this server, model load included: the limits
    it gives err on the generous side)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.goto(server.url)
            wait_for(page, UPLOADER, timeout_s=MEASURE_HANG_GUARD_S, server=server)
            t0 = time.monotonic()
            page.locator(UPLOADER).set_input_files(str(photo))
            wait_for(page, RESULT, timeout_s=MEASURE_HANG_GUARD_S, server=server)
            return Budget(time.monotonic() - t0)
        finally:
            browser.close()


async def first_of(tasks: list[Awaitable[Any]]) -> list[Any]:
    """Run ``tasks`` concurrently; the first failure cancels the others and is raised at once
    (asyncio.gather would let the others wait at a barrier the failed one never reaches)."""
    import asyncio

    running = [asyncio.ensure_future(t) for t in tasks]
    _done, pending = await asyncio.wait(running, return_when=asyncio.FIRST_EXCEPTION)
    for t in pending:
        t.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
    for t in running:  # in order: the failure of the first failed session
        if not t.cancelled() and t.exception() is not None:
            raise t.exception()  # type: ignore[misc]
    return [t.result() for t in running]
