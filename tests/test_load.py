"""Load: several app sessions at once on one real `streamlit run app.py` server.

Four browser contexts (four separate Streamlit sessions, one Debian chromium driven by Playwright's
async API) upload four different sample photos at the same moment. Each session must show the
shoulder tilt that ``posture.analysis.analyze`` gives for ITS photo (formatted as the page formats
it, ``ui.components.cards.fmt_value``), must still show it after every other session has finished, and its
downloaded measurements must carry its own photo's sha256: no state bleeds between sessions even
though they share one process and one pose model. Below the browser, the same holds for the
library: four threads analysing with one shared model get exactly the serial results.

The other load checks live elsewhere: concurrent store writers in
``tests/test_store.py::test_concurrent_saves_from_several_processes``, 300 analyses without memory
growth or model reload in ``tests/test_hardening.py::test_many_analyses_no_leak_no_reload``.

The browser test needs /usr/bin/chromium (`make browser-deps`); it never downloads a browser.
Whole file: about 35 s on a 2-core machine.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from posture.analysis import AnalysisOptions, analyze
from posture.imaging import load_photo
from posture.pose import PoseModel, shared_model
from tests.app_server import CHROMIUM, CHROMIUM_ARGS, app_server
from ui.components.cards import fmt_value

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_images"
# four different front-view photos of the same man: their shoulder tilts differ
PHOTOS = ("yogait_tada1.jpg", "yogait_tada3.jpg", "yogait_tada4.jpg", "yogait_t6.jpg")
# generous: four analyses share one model (its lock serialises the passes) on a 2-core machine
RESULT_TIMEOUT_MS = 90_000

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium (run `make browser-deps`)"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real app server for every session of this module (own data dir, no access password)."""
    with app_server(tmp_path_factory.mktemp("posture-data")) as url:
        yield url


@dataclass(frozen=True)
class Expected:
    name: str
    path: Path
    sha256: str
    shoulder_label: str  # the card's label, e.g. "Shoulder line tilt"
    shoulder: str  # as the page shows it, e.g. "+0.7° ± 1.0°"
    hip_label: str
    hip: str
    json_shoulder: float  # the value in the analysis JSON the page offers for download


@dataclass
class Seen:
    name: str
    shoulder: str = ""
    hip: str = ""
    shoulder_again: str = ""
    hip_again: str = ""
    json_sha256: str = ""
    json_shoulder: float | None = None
    seconds: float = 0.0
    errors: int = 0


def _expected(model: PoseModel) -> list[Expected]:
    out = []
    for name in PHOTOS:
        path = SAMPLES / name
        data = path.read_bytes()
        # the page's call: default options (no height given), anterior view
        a = analyze(load_photo(data), "anterior", AnalysisOptions(), model=model)
        shoulder, hip = a.measurements["shoulder_tilt"], a.measurements["hip_tilt"]
        out.append(Expected(
            name, path, hashlib.sha256(data).hexdigest(), shoulder.label, fmt_value(shoulder),
            hip.label, fmt_value(hip), a.to_dict()["measurements"]["shoulder_tilt"]["value"],
        ))
    return out


async def _card_value(page: Any, label: str) -> str:
    """The value of the one card with this label, once the page has settled on exactly one."""
    cards = page.locator(".pc-card", has=page.locator(".pc-label", has_text=label))
    deadline = time.monotonic() + RESULT_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        if await cards.count() == 1:
            return str(await cards.locator(".pc-value").inner_text())
        await page.wait_for_timeout(200)
    raise AssertionError(f"no single {label!r} card")


async def _session(browser: Any, url: str, exp: Expected, start: asyncio.Barrier,
                   finished: asyncio.Barrier) -> Seen:
    seen = Seen(exp.name)
    context = await browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    try:
        page = await context.new_page()
        await page.goto(url)
        uploader = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
        await uploader.wait_for(state="attached", timeout=60_000)
        await start.wait()  # all four upload at the same moment
        t0 = time.monotonic()
        await uploader.set_input_files(str(exp.path))
        await page.locator(".pc-card .pc-value").first.wait_for(timeout=RESULT_TIMEOUT_MS)
        seen.shoulder = await _card_value(page, exp.shoulder_label)
        seen.hip = await _card_value(page, exp.hip_label)
        seen.seconds = time.monotonic() - t0

        await finished.wait()  # every session has its result: read again
        seen.shoulder_again = await _card_value(page, exp.shoulder_label)
        seen.hip_again = await _card_value(page, exp.hip_label)
        async with page.expect_download(timeout=30_000) as dl:
            await page.get_by_role("button", name="Download measurements").click()
        download = await dl.value
        data = json.loads(Path(await download.path()).read_text())
        seen.json_sha256 = str(data["image"]["sha256"])
        seen.json_shoulder = data["measurements"]["shoulder_tilt"]["value"]
        seen.errors = (await page.locator('[data-testid="stException"]').count()
                       + await page.locator('[data-testid="stAlertContentError"]').count())
        return seen
    finally:
        await context.close()


async def _run_sessions(url: str, expected: list[Expected]) -> list[Seen]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            start, finished = asyncio.Barrier(len(expected)), asyncio.Barrier(len(expected))
            return list(await asyncio.gather(
                *(_session(browser, url, e, start, finished) for e in expected)
            ))
        finally:
            await browser.close()


def test_expected_values_tell_the_photos_apart(model: PoseModel) -> None:
    """The concurrency test below can only see bleeding if the four photos give different values."""
    expected = _expected(model)
    # each session is checked on its shoulder AND hip cards: the pairs must differ
    pairs = [(e.shoulder, e.hip) for e in expected]
    assert len(set(pairs)) == len(PHOTOS), pairs
    assert len({e.sha256 for e in expected}) == len(PHOTOS)


@pytest.mark.slow
def test_threads_sharing_one_model_get_the_serial_results() -> None:
    """The app runs each session in its own thread against one process-wide model: analyses run
    from four threads at once (twice each, interleaved) equal the same analyses run one by one."""
    model = shared_model()
    photos = [(SAMPLES / name).read_bytes() for name in PHOTOS]

    def run(data: bytes) -> tuple[dict[str, Any], np.ndarray]:
        a = analyze(load_photo(data), "anterior", AnalysisOptions(), model=model)
        return a.to_dict(), a.landmarks

    serial = [run(d) for d in photos]
    with ThreadPoolExecutor(max_workers=len(photos)) as pool:
        parallel = list(pool.map(run, photos + photos[::-1]))
    for i, (d, lm) in enumerate(parallel):
        j = i if i < len(photos) else 2 * len(photos) - 1 - i
        assert d == serial[j][0], f"{PHOTOS[j]}: threaded analysis differs from the serial one"
        assert np.array_equal(lm, serial[j][1])


@pytest.mark.browser
@pytest.mark.slow
@needs_chromium
def test_four_concurrent_sessions_keep_their_own_results(server: str, model: PoseModel) -> None:
    expected = _expected(model)
    t0 = time.monotonic()
    seen = asyncio.run(_run_sessions(server, expected))
    wall = time.monotonic() - t0
    report = {s.name: (s.shoulder, s.shoulder_again, round(s.seconds, 1)) for s in seen}
    for e, s in zip(expected, seen, strict=True):
        assert s.errors == 0, f"{e.name}: error box on the page"
        assert s.shoulder == e.shoulder, (e.name, e.shoulder, report)
        assert s.hip == e.hip, (e.name, e.hip, s.hip)
        # after all four finished, each session still shows its own photo
        assert s.shoulder_again == e.shoulder, (e.name, e.shoulder, report)
        assert s.hip_again == e.hip, (e.name, e.hip, s.hip_again)
        assert s.json_sha256 == e.sha256, f"{e.name}: the download describes another photo"
        assert s.json_shoulder == e.json_shoulder, (e.name, e.json_shoulder, s.json_shoulder)
    print(f"4 concurrent sessions: {wall:.1f} s wall; upload->result per session: "
          + ", ".join(f"{s.name} {s.seconds:.1f} s" for s in seen))

