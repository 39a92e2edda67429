"""The app in a real browser: `streamlit run app.py` + Debian chromium driven by Playwright.

Upload a photo, see the annotated photo really render, click on it to move a landmark and watch a
number change, download the report; save two assessments to a new client and compare them. Needs
/usr/bin/chromium (`make browser-deps`); never downloads a browser.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from posture.analysis import analyze
from posture.imaging import load_photo
from posture.pose import PoseModel
from tests.app_server import CHROMIUM, CHROMIUM_ARGS, app_server
from tests.conftest import FRONT, SAMPLES

ROOT = Path(__file__).resolve().parents[1]
SHOULDER = "Shoulder line tilt"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium "
                       "(run `make browser-deps`)"),
]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app's clinic store for this module: a tmp dir, never the real home dir."""
    return tmp_path_factory.mktemp("posture-data")


@pytest.fixture(scope="module")
def server(data_dir: Path) -> Iterator[str]:
    with app_server(data_dir) as url:
        yield url


def _card_value(page: Any, label: str) -> str:
    card = page.locator(".pc-card", has=page.locator(".pc-label", has_text=label))
    return str(card.locator(".pc-value").inner_text())


def _wait_for_new_value(page: Any, label: str, old: str, timeout_s: float = 30.0) -> str:
    """The card's value once the rerun is over (one card with that label) and it differs."""
    cards = page.locator(".pc-card", has=page.locator(".pc-label", has_text=label))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cards.count() == 1:
            value = str(cards.locator(".pc-value").inner_text())
            if value != old:
                return value
        page.wait_for_timeout(200)
    raise AssertionError(f"{label} still shows {old!r} after the click")


def _number(text: str) -> float:
    m = re.match(r"[+-]?\d+(?:\.\d+)?", text)
    assert m, text
    return float(m.group())


def test_upload_click_to_correct_and_download(server: str, tmp_path: Path, model: PoseModel) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
            page.goto(server)
            expect(page.get_by_role("heading", name="New assessment")).to_be_visible(timeout=30_000)
            page.screenshot(path=tmp_path / "0-start.png")

            # upload: the file input of st.file_uploader
            page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(FRONT))
            page.locator(".pc-card").first.wait_for(timeout=90_000)
            before = _card_value(page, SHOULDER)
            assert "°" in before and "±" in before

            # the annotated photo really rendered (inside the click component's iframe)
            frame = page.frame_locator('iframe[title*="streamlit_image_coordinates"]')
            img = frame.locator("#image")
            img.wait_for(timeout=30_000)
            page.wait_for_function(
                "() => [...document.querySelectorAll('iframe')].some(f => {"
                " const i = f.contentDocument && f.contentDocument.getElementById('image');"
                " return i && i.complete && i.naturalWidth > 0; })",
                timeout=30_000,
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
            after = _wait_for_new_value(page, SHOULDER, before)
            assert _number(after) > _number(before) + 2.0, (before, after)
            expect(page.locator(".pc-manual").first).to_be_visible()
            page.screenshot(path=tmp_path / "2-corrected.png")

            # downloads: the JSON always, the PDF when the report package is installed
            with page.expect_download(timeout=30_000) as dl:
                page.get_by_role("button", name=re.compile("Download measurements")).click()
            data = json.loads(Path(dl.value.path()).read_text())
            assert data["schema"] == "posture.analysis/1"
            assert data["landmarks"]["right_shoulder"].get("manual") is True
            with page.expect_download(timeout=60_000) as dl:
                page.get_by_role("button", name=re.compile("Download PDF report")).click()
            assert Path(dl.value.path()).read_bytes().startswith(b"%PDF")

            # no error or exception box anywhere
            assert page.locator('[data-testid="stException"]').count() == 0
            assert page.locator('[data-testid="stAlertContentError"]').count() == 0

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


def _analyse_and_save(page: Any, photo: Path, expect_n: int) -> None:
    """Upload ``photo``, wait for its measurements, save it; the success names assessment #n."""
    from playwright.sync_api import expect

    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(photo))
    # the save section belongs to the analysed photo: wait until it is there for this one
    page.get_by_text(photo.name).first.wait_for(timeout=30_000)
    save = page.get_by_role("button", name=re.compile("^Save assessment"))
    expect(save).to_be_enabled(timeout=90_000)
    save.scroll_into_view_if_needed()
    save.click()
    expect(page.get_by_text(re.compile(rf"Saved as assessment #{expect_n} of BR-0001"))).to_be_visible(
        timeout=30_000)
    expect(page.get_by_role("button", name=re.compile("^Save assessment"))).to_be_disabled()


def _pick(page: Any, label: str, option: str) -> None:
    """Choose ``option`` (a prefix of its text) in the st.selectbox labelled ``label``."""
    from playwright.sync_api import expect

    page.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option", name=re.compile("^" + re.escape(option))).first.click()
    expect(page.get_by_role("combobox", name=label, exact=True)).to_have_value(
        re.compile("^" + re.escape(option)), timeout=30_000)


def test_save_two_assessments_and_compare(server: str, data_dir: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    from posture.compare import compare
    from posture.store import open_store

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1100})
            page.goto(server)
            expect(page.get_by_role("heading", name="New assessment")).to_be_visible(timeout=30_000)

            # first photo: a new client, consent, notes, save
            page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(FRONT))
            page.locator(".pc-card").first.wait_for(timeout=90_000)
            name = page.get_by_role("textbox", name="Name or code of the new client")
            name.fill("BR-0001")
            name.press("Tab")
            page.get_by_text("The client consents to storing").click()
            notes = page.get_by_role("textbox", name="Therapist notes")
            notes.fill("intake")
            notes.press("Tab")
            page.get_by_role("button", name=re.compile("^Save assessment")).click()
            expect(page.get_by_text("Saved as assessment #1 of BR-0001")).to_be_visible(timeout=30_000)
            page.screenshot(path=data_dir / "3-saved.png")

            # second photo: saved to the same (now existing) client
            _analyse_and_save(page, SECOND, 2)
            with open_store(f"sqlite:///{data_dir / 'posture.db'}") as store:
                (client,) = store.find_clients()
                records = store.list_assessments(client.id)
            assert client.name == "BR-0001" and client.consent_given
            assert [r.notes for r in records] == ["intake", ""]

            # compare the two
            page.get_by_role("link", name="Compare").click()
            expect(page.get_by_role("heading", name="Compare assessments")).to_be_visible(timeout=30_000)
            _pick(page, "Before", f"{records[0].taken_at:%d %b %Y}")
            _pick(page, "After", f"{records[1].taken_at:%d %b %Y} · anterior (#{records[1].id})")
            expect(page.get_by_role("heading", name="What changed")).to_be_visible(timeout=30_000)
            grid = page.locator('[data-testid="stDataFrame"]')
            expect(grid).to_be_visible()
            # the grid's accessible table: the shoulder row shows the library's comparison of the
            # two STORED analyses (the table holds the raw numbers; the canvas shows them rounded)
            row = grid.locator("tr", has=page.get_by_text(SHOULDER, exact=True))
            expect(row).to_have_count(1, timeout=30_000)
            cells = [str(t).strip() for t in row.locator("td").all_inner_texts()]
            result = compare(records[0].to_analysis(), records[1].to_analysis())
            ch = result.changes["shoulder_tilt"]
            assert ch.comparable and ch.delta is not None
            assert cells[0] == SHOULDER and cells[1] == "°"
            assert float(cells[4]) == pytest.approx(ch.delta, abs=0.005), cells
            assert cells[-1] == ("yes" if ch.real_change else "no"), cells
            imgs = page.locator('[data-testid="stImage"] img')
            expect(imgs).to_have_count(2, timeout=30_000)
            page.wait_for_function(
                "() => { const i = [...document.querySelectorAll('[data-testid=\"stImage\"] img')];"
                " return i.length === 2 && i.every(e => e.complete && e.naturalWidth > 0); }",
                timeout=30_000,
            )
            sizes = imgs.evaluate_all("els => els.map(e => [e.naturalWidth, e.naturalHeight])")
            assert sizes[0] == sizes[1] and sizes[0][0] > 100  # aligned: the same frame size
            expect(page.get_by_role("button", name=re.compile("Download comparison PDF"))).to_be_visible()
            assert page.locator('[data-testid="stException"]').count() == 0
            assert page.locator('[data-testid="stAlertContentError"]').count() == 0

            page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')?.scrollTo(0, 0)")
            page.wait_for_timeout(800)
            shot = data_dir / "compare.png"
            page.screenshot(path=shot)
            docs = ROOT / "docs"
            if docs.is_dir():
                shutil.copyfile(shot, docs / "screenshot_compare.png")
        finally:
            browser.close()
