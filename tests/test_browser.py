"""The app in a real browser: `streamlit run app.py` + Debian chromium driven by Playwright.

Upload a photo, see the annotated photo really render, click on it to move a landmark and watch a
number change, download the report; save two assessments to a new client and compare them; a photo
the app cannot read fails the wait at once with the page's error text. Needs /usr/bin/chromium
(`make browser-deps`); never downloads a browser.

Every wait for an analysis is a wait for the result OR an error box (``tests.app_server.wait_for``:
an error fails at once, with its text); its limit comes from one upload -> result measured alone on
this server in this run (``Budget``); a failure prints the tail of the server's log.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from posture.analysis import analyze
from posture.imaging import load_photo
from posture.pose import PoseModel
from tests.app_server import (
    CARD,
    CARD_LABEL,
    CARD_VALUE,
    CHROMIUM,
    CHROMIUM_ARGS,
    NEEDS_CHROMIUM,
    RESULT,
    UPLOADER,
    AppFailed,
    AppServer,
    Budget,
    error_text,
    wait_for,
    wait_settled,
    wait_until,
)
from tests.conftest import FRONT, SAMPLES

ROOT = Path(__file__).resolve().parents[1]
SHOULDER = "Shoulder line tilt"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=NEEDS_CHROMIUM),
]
MEASURE_PHOTO = SAMPLES / "yogait_t4.jpg"  # sizes the time limits; used by no test below


def _card_value(page: Any, label: str) -> str:
    card = page.locator(CARD, has=page.locator(CARD_LABEL, has_text=label))
    return str(card.locator(CARD_VALUE).inner_text())


def _wait_for_new_value(page: Any, label: str, old: str, timeout_s: float) -> str:
    """The card's value once the rerun is over (one card with that label) and it differs."""
    cards = page.locator(CARD, has=page.locator(CARD_LABEL, has_text=label))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if errors := error_text(page):
            raise AppFailed(f"error box on the page after the click: {errors}")
        if cards.count() == 1:
            value = str(cards.locator(CARD_VALUE).inner_text())
            if value != old:
                return value
        page.wait_for_timeout(200)
    raise AssertionError(f"{label} still shows {old!r} after the click")


def _number(text: str) -> float:
    m = re.match(r"[+-]?\d+(?:\.\d+)?", text)
    assert m, text
    return float(m.group())


def test_upload_click_to_correct_and_download(server: AppServer, budget: Budget, tmp_path: Path,
                                              model: PoseModel) -> None:
    from playwright.sync_api import expect, sync_playwright

    step = budget.step_ms
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
            page.goto(server.url)
            expect(page.get_by_role("heading", name="New assessment")).to_be_visible(timeout=step)
            page.screenshot(path=tmp_path / "0-start.png")

            # upload: the file input of st.file_uploader; then the result or an error box
            page.locator(UPLOADER).set_input_files(str(FRONT))
            wait_for(page, RESULT, timeout_s=budget.limit_s(), server=server)
            before = _card_value(page, SHOULDER)
            assert "°" in before and "±" in before

            # the annotated photo really rendered (inside the click component's iframe)
            # the first clickable image is the photo (the zoom follows it)
            frame = page.frame_locator('iframe[title*="streamlit_image_coordinates"]').first
            img = frame.locator("#image")
            img.wait_for(timeout=step)
            page.wait_for_function(
                "() => [...document.querySelectorAll('iframe')].some(f => {"
                " const i = f.contentDocument && f.contentDocument.getElementById('image');"
                " return i && i.complete && i.naturalWidth > 0; })",
                timeout=step,
            )
            natural_w, shown_w, shown_h = img.evaluate("e => [e.naturalWidth, e.width, e.height]")
            assert natural_w > 0 and shown_w > 100 and shown_h > 100
            page.screenshot(path=tmp_path / "1-analysed.png")

            # move the client's right shoulder 5% of the photo height lower with one click
            base = analyze(load_photo(FRONT.read_bytes()), "anterior", model=model)
            x, y = base.point_xy("right_shoulder")
            fw, fh = float(base.image["width"]), float(base.image["height"])
            pos = {"x": x * shown_w / fw, "y": (y + 0.05 * fh) * shown_h / fh}
            img.click(position=pos)
            after = _wait_for_new_value(page, SHOULDER, before, step / 1000)
            assert _number(after) > _number(before) + 2.0, (before, after)
            expect(page.get_by_text("uses hand-placed landmarks").first).to_be_visible()
            page.screenshot(path=tmp_path / "2-corrected.png")

            # downloads: the JSON always, the PDF when the report package is installed (once the
            # correction's rerun has finished: a download carries the data of its run)
            wait_settled(page, timeout_s=step / 1000, server=server)
            with page.expect_download(timeout=step) as dl:
                page.get_by_role("button", name=re.compile("Download measurements")).click()
            data = json.loads(Path(dl.value.path()).read_text())
            assert data["schema"] == "posture.analysis/1"
            assert data["landmarks"]["right_shoulder"].get("manual") is True
            with page.expect_download(timeout=step) as dl:
                page.get_by_role("button", name=re.compile("Download PDF report")).click()
            assert Path(dl.value.path()).read_bytes().startswith(b"%PDF")

            # no error or exception box anywhere
            assert error_text(page) == ""

            # the README's screenshot: the corrected assessment, from the top of the page
            page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')?.scrollTo(0, 0)")
            page.wait_for_timeout(500)
            shot = tmp_path / "screenshot.png"
            page.screenshot(path=shot)
            docs = ROOT / "docs"
            if docs.is_dir():
                shutil.copyfile(shot, docs / "screenshot.png")
        finally:
            browser.close()


SECOND = SAMPLES / "yogait_tada1.jpg"  # the same man, another standing photo (front view)


def _analyse_and_save(page: Any, server: AppServer, budget: Budget, photo: Path, expect_n: int) -> None:
    """Upload ``photo``, wait for its measurements, save it; the success names assessment #n."""
    from playwright.sync_api import expect

    page.locator(UPLOADER).set_input_files(str(photo))
    # the save section belongs to the analysed photo: wait until it is there for this one (or an
    # error box), then until its analysis is done
    wait_for(page, "body", text=photo.name, timeout_s=budget.step_ms / 1000, server=server)
    save = page.get_by_role("button", name=re.compile("^Save assessment"))
    wait_until(page, lambda: save.count() == 1 and save.is_enabled(), timeout_s=budget.limit_s(),
               what="an enabled save button", server=server)
    save.scroll_into_view_if_needed()
    save.click()
    expect(page.get_by_text(re.compile(rf"Saved as assessment #{expect_n} of BR-0001"))).to_be_visible(
        timeout=budget.step_ms)
    expect(page.get_by_role("button", name=re.compile("^Save assessment"))).to_be_disabled()


def _pick(page: Any, label: str, option: str, timeout_ms: float) -> None:
    """Choose ``option`` (a prefix of its text) in the st.selectbox labelled ``label``."""
    from playwright.sync_api import expect

    page.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option", name=re.compile("^" + re.escape(option))).first.click()
    expect(page.get_by_role("combobox", name=label, exact=True)).to_have_value(
        re.compile("^" + re.escape(option)), timeout=timeout_ms)


def test_save_two_assessments_and_compare(server: AppServer, budget: Budget, data_dir: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    from posture.compare import compare
    from posture.store import open_store
    from ui.pages.compare import VERDICT_NOISE, VERDICT_REAL, cell

    step = budget.step_ms
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1100})
            page.goto(server.url)
            expect(page.get_by_role("heading", name="New assessment")).to_be_visible(timeout=step)

            # first photo: a new client, consent, notes, save
            page.locator(UPLOADER).set_input_files(str(FRONT))
            wait_for(page, RESULT, timeout_s=budget.limit_s(), server=server)
            name = page.get_by_role("textbox", name="Name or code of the new client")
            name.fill("BR-0001")
            name.press("Tab")
            page.get_by_text("The client consents to storing").click()
            notes = page.get_by_role("textbox", name="Therapist notes")
            notes.fill("intake")
            notes.press("Tab")
            page.get_by_role("button", name=re.compile("^Save assessment")).click()
            expect(page.get_by_text("Saved as assessment #1 of BR-0001")).to_be_visible(timeout=step)
            page.screenshot(path=data_dir / "3-saved.png")

            # second photo: saved to the same (now existing) client
            _analyse_and_save(page, server, budget, SECOND, 2)
            with open_store(f"sqlite:///{data_dir / 'posture.db'}") as store:
                (client,) = store.find_clients()
                records = store.list_assessments(client.id)
            assert client.name == "BR-0001" and client.consent_given
            assert [r.notes for r in records] == ["intake", ""]

            # compare the two
            page.get_by_role("link", name="Compare").click()
            expect(page.get_by_role("heading", name="Compare assessments")).to_be_visible(timeout=step)
            _pick(page, "Before", f"{records[0].taken_at:%d %b %Y}", step)
            _pick(page, "After", f"{records[1].taken_at:%d %b %Y} · anterior (#{records[1].id})", step)
            wait_for(page, "h1, h2, h3, h4", text="What changed", timeout_s=step / 1000, server=server)
            grid = page.locator('[data-testid="stDataFrame"]')
            expect(grid).to_be_visible()
            # the grid's accessible table: the shoulder row shows the library's comparison of the
            # two STORED analyses (the table holds the raw numbers; the canvas shows them rounded)
            row = grid.locator("tr", has=page.get_by_text(SHOULDER, exact=True))
            expect(row).to_have_count(1, timeout=step)
            cells = [str(t).strip() for t in row.locator("td").all_inner_texts()]
            result = compare(records[0].to_analysis(), records[1].to_analysis())
            ch = result.changes["shoulder_tilt"]
            assert ch.comparable and ch.delta is not None
            # measurement, before, after, change, ±, verdict: each value with its own unit
            assert cells[0] == SHOULDER, cells
            assert cells[3] == cell(ch.delta, ch.unit), (cells, ch.delta)
            assert cells[4] == cell(ch.uncertainty, ch.unit, signed=False), (cells, ch.uncertainty)
            assert cells[-1].startswith(VERDICT_REAL if ch.real_change else VERDICT_NOISE), cells
            imgs = page.locator('[data-testid="stImage"] img')
            expect(imgs).to_have_count(2, timeout=step)
            page.wait_for_function(
                "() => { const i = [...document.querySelectorAll('[data-testid=\"stImage\"] img')];"
                " return i.length === 2 && i.every(e => e.complete && e.naturalWidth > 0); }",
                timeout=step,
            )
            sizes = imgs.evaluate_all("els => els.map(e => [e.naturalWidth, e.naturalHeight])")
            assert sizes[0] == sizes[1] and sizes[0][0] > 100  # aligned: the same frame size
            # the comparison PDF is made on demand, then offered for download
            page.get_by_role("button", name=re.compile("Make the comparison PDF")).click()
            wait_until(page, lambda: page.get_by_role(
                "button", name=re.compile("Download comparison PDF")).count() == 1,
                timeout_s=step / 1000, what="the comparison PDF's download button", server=server)
            with page.expect_download(timeout=step) as dl:
                page.get_by_role("button", name=re.compile("Download comparison PDF")).click()
            assert Path(dl.value.path()).read_bytes().startswith(b"%PDF")
            assert error_text(page) == ""

            page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')?.scrollTo(0, 0)")
            page.wait_for_timeout(800)
            shot = data_dir / "compare.png"
            page.screenshot(path=shot)
            docs = ROOT / "docs"
            if docs.is_dir():
                shutil.copyfile(shot, docs / "screenshot_compare.png")
        finally:
            browser.close()


def test_an_error_box_fails_the_wait_at_once(server: AppServer, budget: Budget, tmp_path: Path) -> None:
    """The waits above cannot mistake broken for slow: a .jpg that is no photo makes the page show
    its error, and the wait for a result fails on it at once with the page's text (well before the
    limit a result would have)."""
    from playwright.sync_api import sync_playwright

    bad = tmp_path / "not_a_photo.jpg"
    bad.write_bytes(b"this is a text file, not a JPEG\n" * 20)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.goto(server.url)
            wait_for(page, UPLOADER, timeout_s=budget.step_ms / 1000, server=server)
            page.locator(UPLOADER).set_input_files(str(bad))
            t0 = time.monotonic()
            with pytest.raises(AppFailed, match="error box on the page") as failed:
                wait_for(page, RESULT, timeout_s=budget.limit_s(), server=server)
            waited = time.monotonic() - t0
            shown = error_text(page)
        finally:
            browser.close()
    assert shown and shown in str(failed.value)  # the message carries the page's own text
    assert waited < budget.limit_s() / 2, (waited, budget.limit_s())
