"""A therapist's day in a real browser, on a laptop (1400x1000) and on a tablet held upright (820x1180,
sidebar open; New assessment also with it closed): `streamlit run app.py` + Debian chromium driven by
Playwright.

On each size and each page (New assessment with a result, Clients, Compare with two saved
assessments): nothing scrolls sideways (the document, Streamlit's main scroller, every table's
box inside the viewport) and the photo's box lies inside its column - measured with bounding boxes,
the photo's inside the click component's iframe. A landmark moved by one photo pixel with a nudge
arrow and placed through the zoom lands where it was sent (the JSON download and the zoom's
position line say so). A photo of four people (four shipped front views side by side) is resolved
by picking the client. Every request the browser makes goes to the app's own host. The screenshots
of both sizes are written to docs/ (screenshot_laptop.png, screenshot_tablet.png).

Needs /usr/bin/chromium (`make browser-deps`); never downloads a browser. Waits are for the result
OR an error box (``tests.app_server.wait_for``), limits from one upload measured on this server.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.app_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    NEEDS_CHROMIUM,
    RESULT,
    UPLOADER,
    AppServer,
    Budget,
    error_text,
    wait_for,
    wait_settled,
    wait_until,
)
from tests.conftest import FRONT, SAMPLES
from tests.people_photo import write_four_people, x_range
from ui.components.photo import display_width, zoom_window

ROOT = Path(__file__).resolve().parents[1]
LAPTOP = {"width": 1400, "height": 1000}
TABLET = {"width": 820, "height": 1180}
OWN_HOSTS = {"127.0.0.1", "localhost"}
CLIENT = "DAY-0001"
PHOTO_IFRAME = 'iframe[title*="streamlit_image_coordinates"]'
MEASURE_PHOTO = SAMPLES / "yogait_t4.jpg"  # sizes the time limits; used by no test below
# the position line under the zoom: "At x 123.4, y 56.7 px of the full photo"
AT = re.compile(r"At x (-?\d+(?:\.\d+)?), y (-?\d+(?:\.\d+)?) px of the full photo")
# a box may stick out of its container by sub-pixel rounding only
EPS_PX = 1.0

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=NEEDS_CHROMIUM),
]


# --- what the page looks like, measured --------------------------------------------------------
_OVERFLOW_JS = """() => {
  const out = [];
  const se = document.scrollingElement;
  if (se.scrollWidth > se.clientWidth) out.push(`document ${se.scrollWidth} > ${se.clientWidth}`);
  for (const sel of ['[data-testid="stMain"]', '[data-testid="stAppViewContainer"]',
                     '[data-testid="stMainBlockContainer"]']) {
    const e = document.querySelector(sel);
    if (e && e.scrollWidth > e.clientWidth + 1) out.push(`${sel} ${e.scrollWidth} > ${e.clientWidth}`);
  }
  const vw = document.documentElement.clientWidth;
  for (const t of document.querySelectorAll('[data-testid="stDataFrame"], [data-testid="stTable"]')) {
    const r = t.getBoundingClientRect();
    if (r.left < -1 || r.right > vw + 1) out.push(`table [${r.left}, ${r.right}] outside 0..${vw}`);
    // the grid itself: wider content than its box means a sideways scrollbar in the table
    const s = t.querySelector('.dvn-scroller');
    if (s && s.scrollWidth > s.clientWidth + 1) out.push(`table scrolls ${s.scrollWidth} > ${s.clientWidth}`);
  }
  for (const b of document.querySelectorAll('[data-testid="stMain"] button, [data-testid="stMain"] label')) {
    const r = b.getBoundingClientRect();
    if (r.width > 0 && (r.left < -1 || r.right > vw + 1)) out.push(`control [${r.left}, ${r.right}]`);
  }
  return out;
}"""


# text that the page cuts with an ellipsis (a card's value, a button's or a picker's label)
_CUT_JS = """() => [...document.querySelectorAll('[data-testid="stMain"] *')]
  .filter(e => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1
               && getComputedStyle(e).textOverflow === 'ellipsis')
  .map(e => (e.innerText || '').trim()).filter(t => t)"""


def assert_no_sideways_scroll(page: Any, where: str) -> None:
    """Nothing scrolls sideways and no text is cut short."""
    problems = page.evaluate(_OVERFLOW_JS)
    assert not problems, f"{where}: {problems}"
    cut = page.evaluate(_CUT_JS)
    assert not cut, f"{where}: text cut with an ellipsis: {cut}"


def _box(locator: Any) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None, locator
    return dict(box)


def _inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (inner["x"] >= outer["x"] - EPS_PX and inner["y"] >= outer["y"] - EPS_PX
            and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + EPS_PX
            and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + EPS_PX)


def assert_photo_fits(page: Any, index: int = 0) -> dict[str, float]:
    """The index-th clickable image (0: the photo) lies inside its iframe, the iframe inside its
    column (the element container Streamlit put it in) and inside the viewport; returns the image's
    box as the page shows it."""
    frame_el = page.locator(PHOTO_IFRAME).nth(index)
    frame_box = _box(frame_el)
    # its column: the photo's column of the result (photo and zoom), else the page's main block
    photo_col = page.locator(".st-key-photo_col", has=frame_el)
    column = photo_col if photo_col.count() else page.locator('[data-testid="stMainBlockContainer"]')
    col_box = _box(column)
    assert _inside(col_box, _box(page.locator('[data-testid="stMainBlockContainer"]'))), col_box
    img = page.frame_locator(PHOTO_IFRAME).nth(index).locator("#image")
    img.wait_for()
    page.wait_for_function(
        "(i) => { const f = document.querySelectorAll('iframe[title*=\"streamlit_image_coordinates\"]')[i];"
        " const e = f && f.contentDocument && f.contentDocument.getElementById('image');"
        " return e && e.complete && e.naturalWidth > 0; }", arg=index,
    )
    # inside the iframe: the image's box against the iframe's own viewport
    inner = img.evaluate("e => { const r = e.getBoundingClientRect();"
                         " return {x: r.x, y: r.y, width: r.width, height: r.height,"
                         " vw: innerWidth, vh: innerHeight}; }")
    assert inner["x"] >= -EPS_PX and inner["x"] + inner["width"] <= inner["vw"] + EPS_PX, inner
    assert inner["y"] >= -EPS_PX and inner["y"] + inner["height"] <= inner["vh"] + EPS_PX, inner
    img_box = _box(img)  # in page coordinates
    assert _inside(img_box, frame_box), (img_box, frame_box)
    assert _inside(frame_box, col_box), (frame_box, col_box)
    vw = page.viewport_size["width"]
    assert frame_box["x"] >= 0 and frame_box["x"] + frame_box["width"] <= vw, (frame_box, vw)
    return img_box


def _top(page: Any) -> None:
    page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')?.scrollTo(0, 0)")
    page.wait_for_timeout(500)


def _zoom_point(page: Any, timeout_ms: float) -> tuple[float, float]:
    line = page.get_by_text(AT)
    line.wait_for(timeout=timeout_ms)
    m = AT.search(str(line.inner_text()))
    assert m, line.inner_text()
    return float(m[1]), float(m[2])


def _wait_point(page: Any, server: AppServer, old: tuple[float, float], timeout_s: float
                ) -> tuple[float, float]:
    out: list[tuple[float, float]] = []

    def moved() -> bool:
        try:
            pt = _zoom_point(page, 1000)
        except Exception:
            return False
        out[:] = [pt]
        return pt != old

    wait_until(page, moved, timeout_s=timeout_s, what=f"the landmark to move from {old}", server=server)
    return out[0]


def _json(page: Any, server: AppServer, step: float) -> dict[str, Any]:
    wait_settled(page, timeout_s=step / 1000, server=server)
    with page.expect_download(timeout=step) as dl:
        page.get_by_role("button", name=re.compile("Download measurements")).click()
    doc: dict[str, Any] = json.loads(Path(dl.value.path()).read_text())
    return doc


def _page_to(page: Any, name: str, heading: str, step: float) -> None:
    from playwright.sync_api import expect

    page.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=step)


def _record_requests(page: Any, seen: list[str]) -> None:
    page.on("request", lambda req: seen.append(req.url))
    page.on("websocket", lambda ws: seen.append(ws.url))


def _foreign(urls: list[str]) -> list[str]:
    return [u for u in urls if urlparse(u).scheme not in ("data", "blob", "about")
            and urlparse(u).hostname not in OWN_HOSTS]


def _upload_front(page: Any, server: AppServer, budget: Budget) -> None:
    from playwright.sync_api import expect

    page.goto(server.url)
    expect(page.get_by_role("heading", name="New assessment")).to_be_visible(timeout=budget.step_ms)
    page.locator(UPLOADER).set_input_files(str(FRONT))
    wait_for(page, RESULT, timeout_s=budget.limit_s(), server=server)


def _save(page: Any, budget: Budget, n: int, *, new: bool) -> None:
    from playwright.sync_api import expect

    if new:
        name = page.get_by_role("textbox", name="Name or code of the new client")
        name.fill(CLIENT)
        name.press("Tab")
        page.get_by_text("The client consents to storing").click()
    save = page.get_by_role("button", name=re.compile("^Save assessment"))
    save.scroll_into_view_if_needed()
    save.click()
    expect(page.get_by_text(re.compile(rf"Saved as assessment #{n} of {CLIENT}"))).to_be_visible(
        timeout=budget.step_ms)


def _check_records_pages(page: Any, server: AppServer, budget: Budget, where: str) -> None:
    from playwright.sync_api import expect

    step = budget.step_ms
    _page_to(page, "Clients", "Clients", step)
    grid = page.locator('[data-testid="stDataFrame"]').first
    expect(grid).to_be_visible(timeout=step)
    page.wait_for_timeout(800)  # the grid lays out its columns after it shows
    # the grid's own scroller is there, so the sideways check below has something to measure
    assert page.locator('[data-testid="stDataFrame"] .dvn-scroller').count() >= 1
    assert_no_sideways_scroll(page, f"{where} Clients")

    _page_to(page, "Compare", "Compare assessments", step)
    wait_for(page, "h1, h2, h3, h4", text="What changed", timeout_s=step / 1000, server=server)
    imgs = page.locator('[data-testid="stImage"] img')
    expect(imgs).to_have_count(2, timeout=step)
    page.wait_for_timeout(800)
    assert page.locator('[data-testid="stDataFrame"] .dvn-scroller').count() >= 1
    assert_no_sideways_scroll(page, f"{where} Compare")
    columns = page.locator('[data-testid="stColumn"]', has=page.locator('[data-testid="stImage"]'))
    assert columns.count() == 2, columns.count()
    for i in range(2):  # each aligned photo inside its column and the viewport
        img = columns.nth(i).locator('[data-testid="stImage"] img')
        assert _inside(_box(img), _box(columns.nth(i))), (where, i)
        assert _box(img)["x"] + _box(img)["width"] <= page.viewport_size["width"]
    assert error_text(page) == ""


def _records_day(page: Any, server: AppServer, budget: Budget) -> None:
    """Clients: the newest session's date edited, its report reopened (a PDF naming the client),
    then that assessment deleted after the dialog's confirmation; the other one stays."""
    import datetime as dt
    import io

    from playwright.sync_api import expect
    from pypdf import PdfReader

    step = budget.step_ms
    _page_to(page, "Clients", "Clients", step)
    expect(page.get_by_role("heading", name="Assessments (2)")).to_be_visible(timeout=step)
    day = dt.date.today() - dt.timedelta(days=3)
    field = page.locator('[data-testid="stDateInput"]', has_text="Session date").locator("input")
    field.fill(day.isoformat())  # the field's own YYYY-MM-DD (typing runs into its input mask)
    field.press("Enter")
    page.get_by_role("heading", name="Open a saved assessment").click()  # leave the field
    save = page.get_by_role("button", name="Save the date")
    expect(save).to_be_enabled(timeout=step)
    save.click()
    expect(page.get_by_text(re.compile(rf"now dated {day:%d %b %Y}")).first).to_be_visible(timeout=step)

    # a click on a button that a rerun is replacing may act on the page as it was (the old date):
    # wait for each rerun to finish before the next click
    wait_settled(page, timeout_s=step / 1000, server=server)
    page.get_by_role("button", name="Make the report PDF").click()
    expect(page.get_by_role("button", name="Download the report (PDF)")).to_be_visible(timeout=step)
    wait_settled(page, timeout_s=step / 1000, server=server)
    with page.expect_download(timeout=step) as dl:
        page.get_by_role("button", name="Download the report (PDF)").click()
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(Path(dl.value.path()).read_bytes())).pages)
    assert CLIENT in text and f"{day:%d %b %Y}" in text

    page.get_by_role("button", name="Delete this assessment").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible(timeout=step)
    dialog.get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_text(re.compile(rf"Deleted the assessment of {day:%d %b %Y}")).first).to_be_visible(
        timeout=step)
    expect(page.get_by_role("heading", name="Assessments (1)")).to_be_visible(timeout=step)
    assert_no_sideways_scroll(page, "tablet Clients after a delete")
    assert error_text(page) == ""


def test_a_working_day_on_a_laptop_and_a_tablet(server: AppServer, budget: Budget, tmp_path: Path,
                                                data_dir: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    step = budget.step_ms
    seen: list[str] = []
    shots: dict[str, Path] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            # --- laptop: assess, nudge one pixel, save twice, Clients, Compare ------------------
            page = browser.new_page(viewport=LAPTOP, accept_downloads=True)
            _record_requests(page, seen)
            _upload_front(page, server, budget)
            page.wait_for_timeout(800)
            assert_no_sideways_scroll(page, "laptop New assessment")
            photo_box = assert_photo_fits(page, 0)
            assert photo_box["width"] > 300  # a laptop shows the photo at its display width
            assert_photo_fits(page, 1)  # the zoom
            _top(page)
            shots["laptop"] = tmp_path / "laptop.png"
            page.screenshot(path=shots["laptop"])

            before = _json(page, server, step)["landmarks"]["right_shoulder"]
            assert not before.get("manual")
            _save(page, budget, 1, new=True)
            x0, y0 = _zoom_point(page, step)
            page.get_by_role("button", name="→", exact=True).click()  # one photo pixel right
            x1, y1 = _wait_point(page, server, (x0, y0), budget.limit_s())
            assert (x1, y1) == (pytest.approx(x0 + 1.0, abs=0.051), pytest.approx(y0, abs=0.051))
            after: dict[str, Any] = {}

            def nudged() -> bool:  # the download is built by the rerun the nudge started
                after.clear()
                after.update(_json(page, server, step)["landmarks"]["right_shoulder"])
                return after.get("manual") is True

            wait_until(page, nudged, timeout_s=budget.limit_s(), server=server,
                       what="the measurements download to carry the nudged point")
            assert after["x"] == pytest.approx(before["x"] + 1.0, abs=0.11), (before, after)
            assert after["y"] == pytest.approx(before["y"], abs=0.11), (before, after)
            _save(page, budget, 2, new=False)  # the nudged analysis is another assessment
            _check_records_pages(page, server, budget, "laptop")
            page.close()

            # --- tablet, sidebar open: assess, place through the zoom, the records pages --------
            page = browser.new_page(viewport=TABLET, accept_downloads=True)
            _record_requests(page, seen)
            _upload_front(page, server, budget)
            sidebar = page.locator('[data-testid="stSidebar"]')
            assert _box(sidebar)["width"] > 200, "the sidebar is open"
            page.wait_for_timeout(800)
            assert_no_sideways_scroll(page, "tablet New assessment")
            photo_box = assert_photo_fits(page, 0)
            main_box = _box(page.locator('[data-testid="stMainBlockContainer"]'))
            assert photo_box["x"] >= main_box["x"]  # not under the sidebar
            zoom_box = assert_photo_fits(page, 1)
            _top(page)
            shots["tablet"] = tmp_path / "tablet.png"
            page.screenshot(path=shots["tablet"])

            # tap the zoom 3 photo pixels right of the landmark: it lands there (to the zoom's
            # precision: one zoom pixel is a fraction of a photo pixel)
            doc = _json(page, server, step)
            full_w, full_h = int(doc["image"]["width"]), int(doc["image"]["height"])
            px, py = _zoom_point(page, step)
            win = zoom_window((px, py), full_w, full_h, display_width(full_w, full_h))
            per_css = (win[2] - win[0]) / zoom_box["width"]  # photo px per CSS px of the zoom
            target = (px + 3.0, py)
            zoom_img = page.frame_locator(PHOTO_IFRAME).nth(1).locator("#image")
            zoom_img.scroll_into_view_if_needed()
            zoom_img.click(position={"x": (target[0] - win[0]) / per_css,
                                     "y": (target[1] - win[1]) / per_css})
            qx, qy = _wait_point(page, server, (px, py), budget.limit_s())
            assert abs(qx - target[0]) <= per_css + 0.051 and abs(qy - target[1]) <= per_css + 0.051, (
                (qx, qy), target, per_css)
            assert per_css < 0.5  # finer than one photo pixel per tap

            # the sidebar closed: still no sideways scroll, the photo the same size and whole
            shown = assert_photo_fits(page, 0)
            sidebar.hover()  # the collapse arrow shows while the pointer is over the sidebar
            page.locator('[data-testid="stSidebarCollapseButton"] button').click()
            wait_until(page, lambda: not sidebar.is_visible() or _box(sidebar)["width"] < 50,
                       timeout_s=step / 1000, what="the sidebar to close", server=server)
            page.wait_for_timeout(800)
            assert_no_sideways_scroll(page, "tablet, sidebar closed")
            closed = assert_photo_fits(page, 0)
            assert closed["width"] == pytest.approx(shown["width"], abs=1.0), (shown, closed)
            page.locator('[data-testid="stExpandSidebarButton"]').click()
            wait_until(page, lambda: sidebar.is_visible() and _box(sidebar)["width"] > 200,
                       timeout_s=step / 1000, what="the sidebar to open again", server=server)
            _check_records_pages(page, server, budget, "tablet")

            # --- four people: refused until the client is picked --------------------------------
            four = write_four_people(tmp_path / "four_people.jpg")
            four_w = x_range(3)[1]  # the composite's width in pixels
            _page_to(page, "New assessment", "New assessment", step)
            page.locator(UPLOADER).set_input_files(str(four))
            wait_for(page, '[data-testid="stAlertContentWarning"]', text="4 people are in this photo",
                     timeout_s=budget.limit_s(), server=server)
            page.locator('[class*="st-key-box_person_tap_"] iframe').wait_for(timeout=step)
            wait_until(page, lambda: page.locator(PHOTO_IFRAME).count() == 1, timeout_s=step / 1000,
                       what="only the people photo", server=server)
            people_box = assert_photo_fits(page, 0)  # the people, numbered, fit too
            assert page.locator(RESULT).count() == 0
            picker = page.locator('[data-testid="stButtonGroup"] button')
            assert picker.all_inner_texts() == [f"Person {i}" for i in range(1, 5)]
            # tap the third person (counted from the left) in the middle of their strip
            lo, hi = x_range(2)
            people = page.frame_locator(PHOTO_IFRAME).nth(0).locator("#image")
            people.click(position={"x": (lo + hi) / 2 / four_w * people_box["width"],
                                   "y": people_box["height"] / 2})
            wait_for(page, RESULT, timeout_s=budget.limit_s(), server=server)
            expect(page.get_by_role("button", name="Choose another person")).to_be_visible()
            doc = _json(page, server, step)
            assert doc["method"]["person"] == 2
            shoulder = doc["landmarks"]["right_shoulder"]
            assert lo < shoulder["x"] < hi, (shoulder, lo, hi)
            assert_no_sideways_scroll(page, "tablet four people")
            _records_day(page, server, budget)  # a date edited, a report reopened, one deleted
            page.close()
        finally:
            browser.close()

    # nothing left the machine: every request (page, scripts, fonts, icons, websocket) to the app
    assert seen, "no request recorded"
    assert not _foreign(seen), sorted(set(_foreign(seen)))
    docs = ROOT / "docs"
    if docs.is_dir():
        for size, shot in shots.items():
            shutil.copyfile(shot, docs / f"screenshot_{size}.png")
