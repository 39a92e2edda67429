"""A visit in a real browser: a front and a side photo built into one visit, saved, a second visit
saved, the two compared view by view (front with front, side with side), the visit PDF names every
view. `streamlit run app.py` + Debian chromium (never a downloaded browser).

Shipped photos: yogait_tada1.jpg (front) and coco_000000234748.jpg (a man seen from his right,
three-quarter) as the right side view; the second visit's side view gets a one-pixel hand
correction, which must stay with that photo only. Every wait is for the result OR an error box
(``tests.app_server``), its limit measured on this server in this run.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest

from posture.exam import VIEW_TITLES
from posture.sides import View
from tests.app_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    NEEDS_CHROMIUM,
    UPLOADER,
    AppServer,
    Budget,
    error_text,
    wait_for,
    wait_settled,
    wait_until,
)
from tests.conftest import SAMPLES

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=NEEDS_CHROMIUM),
]
FRONT_1 = SAMPLES / "yogait_tada1.jpg"
FRONT_2 = SAMPLES / "yogait_tada3.jpg"  # the same man, another standing photo: the follow-up
SIDE = SAMPLES / "coco_000000234748.jpg"  # seen from his right
MEASURE_PHOTO = SAMPLES / "yogait_t4.jpg"  # sizes the time limits
CLIENT = "BV-0001"
SIDE_LABEL = VIEW_TITLES[View.RIGHT]  # "Right side (client's right toward the camera)"
FRONT_LABEL = VIEW_TITLES[View.ANTERIOR]
PICKER_FRONT = "Anterior (front)"  # the sidebar's view picker
CELL_ROUNDING = 0.051  # the grid prints one decimal


def _choose_view(page: Any, label: str) -> None:
    page.locator('[data-testid="stSidebar"]').get_by_text(label, exact=True).click()


def _add(page: Any, server: AppServer, budget: Budget, photo: Path, view_words: str,
         card: str) -> None:
    """Upload ``photo`` (the view already chosen), wait for its analysis (its card ``card``), add
    it to the visit."""
    page.locator(UPLOADER).set_input_files(str(photo))
    add = page.get_by_role("button", name=f"Add this photo to the visit as {view_words.lower()}")
    wait_until(page, lambda: add.count() == 1 and page.get_by_text(card, exact=True).count() > 0,
               timeout_s=budget.limit_s(2), what=f"the add button for {photo.name}", server=server)
    add.click()
    wait_for(page, "p, span, div", text=f"This photo is the visit's {view_words.lower()} view",
             timeout_s=budget.step_ms / 1000, server=server)


def _save_visit(page: Any, server: AppServer, step_ms: float) -> None:
    """Click "Save the visit" once the page has finished its rerun (a click on a button that a
    rerun is replacing may be lost)."""
    wait_settled(page, timeout_s=step_ms / 1000, server=server)
    save = page.get_by_role("button", name=re.compile(r"^Save the visit"))
    wait_until(page, lambda: save.count() == 1 and save.is_enabled(), timeout_s=step_ms / 1000,
               what="an enabled 'Save the visit'", server=server)
    save.click()


def _pick(page: Any, label: str, option: str, timeout_ms: float) -> None:
    from playwright.sync_api import expect

    page.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option", name=re.compile("^" + re.escape(option))).first.click()
    expect(page.get_by_role("combobox", name=label, exact=True)).to_have_value(
        re.compile("^" + re.escape(option)), timeout=timeout_ms)


def _change_cell(page: Any, label: str, expected: float, timeout_s: float, server: AppServer) -> list[str]:
    """The Compare grid's row ``label`` once its change column (measurement, before, after,
    change, ...) reads ``expected``: the page reruns after each pick, so an earlier pair's row
    may show first. Fails with the last row seen."""
    grid = page.locator('[data-testid="stDataFrame"]')
    row = grid.locator("tr", has=page.get_by_text(label, exact=True))
    cells: list[str] = []

    def shows() -> bool:
        cells[:] = [str(t).strip() for t in row.first.locator("td").all_inner_texts()] if row.count() else []
        digits = re.sub(r"[^0-9.+-]", "", cells[3]) if len(cells) > 3 else ""
        return bool(digits) and abs(float(digits) - expected) <= CELL_ROUNDING

    try:
        wait_until(page, shows, timeout_s=timeout_s, what=f"the {label} row", server=server)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last row seen {cells}, change expected {expected:+.2f}") from None
    return cells


def test_visit_front_and_side_saved_twice_and_compared_view_by_view(
    server: AppServer, budget: Budget, data_dir: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright
    from pypdf import PdfReader

    from posture.compare import compare
    from posture.store import list_visits, open_store

    step = budget.step_ms
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1100}, accept_downloads=True)
            page.goto(server.url)
            expect(page.get_by_role("heading", name="New assessment")).to_be_visible(timeout=step)

            # visit 1: the front, then the side (the view picker offers the side views)
            _add(page, server, budget, FRONT_1, FRONT_LABEL, "Shoulder line tilt")
            _choose_view(page, SIDE_LABEL)
            _add(page, server, budget, SIDE, SIDE_LABEL, "Trunk lean (shoulder-hip line from vertical)")
            # the side photo's cards are the side-view measurements, not the front's
            assert page.get_by_text("Shoulder line tilt", exact=True).count() == 0
            expect(page.get_by_text(FRONT_LABEL, exact=True)).to_be_visible()  # the visit's rows
            expect(page.get_by_text(SIDE_LABEL, exact=True).last).to_be_visible()

            # the visit PDF opens and names every view
            with page.expect_download(timeout=step) as dl:
                page.get_by_role("button", name=re.compile(r"Download the visit PDF \(2 views\)")).click()
            pdf = Path(dl.value.path()).read_bytes()
            text = " ".join(pg.extract_text() or "" for pg in PdfReader(io.BytesIO(pdf)).pages)
            text = " ".join(text.split())
            assert FRONT_LABEL in text and SIDE_LABEL in text, text[:400]

            # save it for a new client
            name = page.get_by_role("textbox", name="Name or code of the new client")
            name.fill(CLIENT)
            name.press("Tab")
            page.get_by_text("The client consents to storing").click()
            expect(page.get_by_role("checkbox", name=re.compile("^The client consents"))).to_be_checked(
                timeout=step)
            _save_visit(page, server, step)
            expect(page.get_by_text(f"Visit saved (2 views) for {CLIENT}")).to_be_visible(timeout=step)

            # visit 2: another front photo; the same side photo with a one-pixel hand correction
            page.get_by_role("button", name="Start a new visit").click()
            expect(page.get_by_role("button", name=re.compile(r"^Save the visit"))).to_have_count(
                0, timeout=step)
            _choose_view(page, PICKER_FRONT)
            _add(page, server, budget, FRONT_2, FRONT_LABEL, "Shoulder line tilt")
            _choose_view(page, SIDE_LABEL)
            _add(page, server, budget, SIDE, SIDE_LABEL, "Trunk lean (shoulder-hip line from vertical)")
            page.get_by_role("button", name="→").click()
            wait_for(page, "p, span, div", text="1 hand-placed", timeout_s=step / 1000, server=server)
            _save_visit(page, server, step)
            expect(page.get_by_text(f"Visit saved (2 views) for {CLIENT}")).to_be_visible(timeout=step)
            assert error_text(page) == ""

            with open_store(f"sqlite:///{data_dir / 'posture.db'}") as store:
                (client,) = store.find_clients()
                records = store.list_assessments(client.id)
                analyses = [r.to_analysis() for r in records]
                visits = list_visits(store, client.id)
            # two visits of two views each, every view its own assessment
            assert [v.views for v in visits] == [("anterior", "right")] * 2
            assert [sorted(v.assessment_ids.values()) for v in visits] == [
                [records[0].id, records[1].id], [records[2].id, records[3].id]]
            assert client.name == CLIENT and client.consent_given
            assert [a.view for a in analyses] == [View.ANTERIOR, View.RIGHT] * 2
            assert len({r.taken_at for r in records}) == 1  # one session date per visit
            # hand corrections stay with their photo: only the second visit's side view has one
            assert [bool(a.manual) for a in analyses] == [False, False, False, True]

            # Compare: front with front, side with side
            page.get_by_role("link", name="Compare").click()
            expect(page.get_by_role("heading", name="Compare assessments")).to_be_visible(timeout=step)
            day = f"{records[0].taken_at:%d %b %Y}"
            for before, after, row_label, name_ in (
                (records[0], records[2], "Shoulder line tilt", "shoulder_tilt"),
                (records[1], records[3], "Trunk lean", "trunk_lean"),
            ):
                _pick(page, "Before", f"{day} · {before.view} (#{before.id})", step)
                _pick(page, "After", f"{day} · {after.view} (#{after.id})", step)
                wait_for(page, "h1, h2, h3, h4", text="What changed", timeout_s=step / 1000,
                         server=server)
                result = compare(before.to_analysis(), after.to_analysis())
                assert not any("different views" in w for w in result.warnings), result.warnings
                ch = result.changes[name_]
                assert ch.comparable and ch.delta is not None
                cells = _change_cell(page, row_label, ch.delta, step / 1000, server)
                assert cells[0] == row_label and "–" not in cells[1:3], cells
            assert error_text(page) == ""
        finally:
            browser.close()
