"""A session's media live only while the session does (issue 16 item 2).

A real `streamlit run app.py` (the repo's .streamlit/config.toml, so its disconnectedSessionTTL),
Chromium uploads a shipped photo, the /media URLs the page loaded are collected; they answer 200 to a
plain request with no cookie while the tab is open, and 404 once the browser is closed for the TTL
plus the reaper's two passes (ui/session_reaper.py). Before that module, the photo was still served
135 s after the browser closed (Streamlit only drops an expired session from its reconnect cache).
"""

from __future__ import annotations

import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.app_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    MEASURE_HANG_GUARD_S,
    NEEDS_CHROMIUM,
    RESULT,
    UPLOADER,
    app_server,
    wait_for,
)
from tests.conftest import FRONT
from ui.session_reaper import REAP_INTERVAL_S

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=NEEDS_CHROMIUM),
]


def _is_media(url: str) -> bool:
    """A session's media file (not the bundled fonts under /static/media/)."""
    return urllib.parse.urlsplit(url).path.startswith("/media/")


def _status(url: str) -> int:
    """The status of a plain GET with no cookie (what `curl URL` would get)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_media_of_a_closed_session_stop_being_served(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    ttl_s = float(tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
                  ["server"]["disconnectedSessionTTL"])
    # the bound is the configuration's, not a machine speed: TTL, a pass to notice the session, a
    # pass to release it, one more for a download's second orphan pass, and one of slack
    bound_s = ttl_s + 4 * REAP_INTERVAL_S
    assert ttl_s <= 60, "a closed tab's photo should not stay reachable for minutes"
    with app_server(tmp_path / "data") as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        media: list[str] = []
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.on("request", lambda r: media.append(r.url) if _is_media(r.url) else None)
            page.goto(server.url)
            wait_for(page, UPLOADER, timeout_s=MEASURE_HANG_GUARD_S, server=server)
            page.locator(UPLOADER).set_input_files(str(FRONT))
            wait_for(page, RESULT, timeout_s=MEASURE_HANG_GUARD_S, server=server)
            page.wait_for_timeout(2000)  # the photo's image request follows the cards
            urls = sorted(set(media))
            assert urls, "the page loaded no /media URL (the photo is served from /media)"
            assert [_status(u) for u in urls] == [200] * len(urls), "served while the session lives"
        finally:
            browser.close()
        closed = time.monotonic()
        while True:
            statuses = [_status(u) for u in urls]
            if all(s == 404 for s in statuses):
                break
            waited = time.monotonic() - closed
            assert waited < bound_s, (f"{statuses.count(200)} media URL(s) of a closed session still "
                                      f"served {waited:.0f} s after the browser closed")
            time.sleep(1.0)
        assert server.proc.poll() is None, server.log_tail()
