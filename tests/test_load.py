"""Load: several app sessions at once on one real `streamlit run app.py` server.

Four browser contexts (four separate Streamlit sessions, one Debian chromium driven by Playwright's
async API) upload four different sample photos at the same moment. Each session must show the
shoulder tilt that ``posture.analysis.analyze`` gives for ITS photo (formatted as the page formats
it, ``ui.components.cards.fmt_value``), must still show it after every other session has finished, and its
downloaded measurements must carry its own photo's sha256: no state bleeds between sessions even
though they share one process and one pose model. Below the browser, the same holds for the
library: four threads analysing with one shared model get exactly the serial results.

The pose model is a pool of landmarkers (``posture.pose``): the pool gives the serial landmarks,
spreads one analysis's passes over its landmarkers, serves waiting passes by the analyses' arrival
(turn) rather than call order, and never points fd 2 at /dev/null while it serves a pass - an error
another session logs meanwhile reaches the log, with its traceback.

The other load checks live elsewhere: concurrent store writers in
``tests/test_store.py::test_concurrent_saves_from_several_processes``, 300 analyses without memory
growth or model reload in ``tests/test_hardening.py::test_many_analyses_no_leak_no_reload``.

The browser test proves instead of waiting: each session waits for its result OR an error box and
fails at once on the error (with its text); its time limit is sized from one upload -> result
measured alone on the same server in the same run (``tests.app_server.Budget``: RESULT_SLACK x the
number of sessions x that time, at least FLOOR_S); the server's log is a file whose tail a failure
prints. The browser test needs /usr/bin/chromium (`make browser-deps`); it never downloads a browser.
Whole file: about 35 s on a 2-core machine.

The last test checks the suite's own rule (tests/conftest.py): on CI a skipped PostgreSQL or
Chromium test is a failure.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from posture.analysis import AnalysisOptions, analyze
from posture.errors import ModelError
from posture.imaging import load_photo
from posture.pose import (
    SPREAD_ENV,
    WORKERS_ENV,
    PoseModel,
    _Spreader,
    default_spread,
    default_workers,
    shared_model,
)
from posture.refine import DEFAULT_AUGMENTATIONS, crop_transform
from tests.app_server import (
    CARD,
    CARD_LABEL,
    CARD_VALUE,
    CHROMIUM,
    CHROMIUM_ARGS,
    NEEDS_CHROMIUM,
    UPLOADER,
    AppServer,
    Budget,
    app_server,
    await_for,
    first_of,
    measure_single_session,
)
from tests.conftest import strict_components
from ui.components.cards import fmt_value

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_images"
# four different front-view photos of the same man: their shoulder tilts differ
PHOTOS = ("yogait_tada1.jpg", "yogait_tada3.jpg", "yogait_tada4.jpg", "yogait_t6.jpg")
# the single-session run that sizes the time limits: another photo of the same man
MEASURE_PHOTO = SAMPLES / "yogait_t5.jpg"

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason=NEEDS_CHROMIUM)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """One real app server for every session of this module (own data dir, no access password)."""
    with app_server(tmp_path_factory.mktemp("posture-data")) as srv:
        yield srv


@pytest.fixture(scope="module")
def budget(server: AppServer) -> Budget:
    """Time limits from one session alone on this server, measured now (not on an idle machine)."""
    return measure_single_session(server, MEASURE_PHOTO)


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


async def _card_value(page: Any, label: str, timeout_s: float) -> str:
    """The value of the one card with this label, once the page has settled on exactly one."""
    cards = page.locator(CARD, has=page.locator(CARD_LABEL, has_text=label))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await cards.count() == 1:
            return str(await cards.locator(CARD_VALUE).inner_text())
        await page.wait_for_timeout(200)
    raise AssertionError(f"no single {label!r} card")


async def _session(browser: Any, server: AppServer, budget: Budget, exp: Expected,
                   start: asyncio.Barrier, finished: asyncio.Barrier) -> Seen:
    seen = Seen(exp.name)
    context = await browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    step_s = budget.step_ms / 1000
    try:
        page = await context.new_page()
        await page.goto(server.url)
        await await_for(page, UPLOADER, timeout_s=step_s, server=server)
        await start.wait()  # all four upload at the same moment
        t0 = time.monotonic()
        await page.locator(UPLOADER).set_input_files(str(exp.path))
        # the result or an error box (fails at once, with its text): four analyses share the CPUs
        await await_for(page, timeout_s=budget.limit_s(len(PHOTOS)), server=server)
        seen.shoulder = await _card_value(page, exp.shoulder_label, step_s)
        seen.hip = await _card_value(page, exp.hip_label, step_s)
        seen.seconds = time.monotonic() - t0

        await finished.wait()  # every session has its result: read again
        seen.shoulder_again = await _card_value(page, exp.shoulder_label, step_s)
        seen.hip_again = await _card_value(page, exp.hip_label, step_s)
        async with page.expect_download(timeout=budget.step_ms) as dl:
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


async def _run_sessions(server: AppServer, budget: Budget, expected: list[Expected]) -> list[Seen]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            start, finished = asyncio.Barrier(len(expected)), asyncio.Barrier(len(expected))
            # the first failing session fails the test at once (the others are cancelled)
            return await first_of([_session(browser, server, budget, e, start, finished)
                                   for e in expected])
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
    """The app runs each session in its own thread against one process-wide model (a pool of
    landmarkers): analyses run from four threads at once (twice each, interleaved) equal the same
    analyses run one by one."""
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


def _no_timings(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k != "timings_ms"}


@pytest.mark.slow
def test_the_pool_gives_the_serial_landmarks() -> None:
    """Two landmarkers side by side give exactly what one gives pass by pass: the same points and
    masks for twelve crops of a sample photo spread over the pool (both landmarkers served some),
    and the same whole analysis."""
    photo = load_photo((SAMPLES / PHOTOS[1]).read_bytes())
    with PoseModel(workers=1) as serial, PoseModel(workers=2) as pool:
        box = serial.detect(photo.rgb)[0].bbox()
        crops = []
        for k, aug in enumerate(DEFAULT_AUGMENTATIONS):  # twelve crops of different sizes
            m, size = crop_transform(box, aug, 320 + 16 * k)
            crops.append(np.ascontiguousarray(cv2.warpAffine(photo.rgb, m, size)))
        one_by_one = [serial.detect(c) for c in crops]
        spread = pool.detect_many(crops)
        assert all(n > 0 for n in pool.served), pool.served  # the passes were spread
        assert sum(pool.served) == len(crops)
        for a, b in zip(one_by_one, spread, strict=True):
            assert len(a) == len(b) and len(a) > 0
            for pa, pb in zip(a, b, strict=True):
                assert np.array_equal(pa.points, pb.points)
                assert pa.mask is not None and pb.mask is not None and np.array_equal(pa.mask, pb.mask)
        a1 = analyze(photo, "anterior", AnalysisOptions(), model=serial)
        a2 = analyze(photo, "anterior", AnalysisOptions(), model=pool)
        assert _no_timings(a1.to_dict()) == _no_timings(a2.to_dict())
        assert np.array_equal(a1.landmarks, a2.landmarks)
        pool.spread = False  # sessions side by side, each one's passes one after the other
        assert all(np.array_equal(a[0].points, b[0].points)
                   for a, b in zip(one_by_one, pool.detect_many(crops), strict=True))


def test_pool_size_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WORKERS_ENV, "3")
    assert default_workers() == 3
    monkeypatch.delenv(WORKERS_ENV)
    assert default_workers() == len(os.sched_getaffinity(0))
    for bad in ("0", "-1", "two"):
        monkeypatch.setenv(WORKERS_ENV, bad)
        with pytest.raises(ModelError, match=WORKERS_ENV):
            default_workers()
    with pytest.raises(ModelError):
        PoseModel(workers=0)
    assert default_spread()
    for off in ("0", "false", "OFF"):
        monkeypatch.setenv(SPREAD_ENV, off)
        assert not default_spread()


def test_a_closed_pool_says_so() -> None:
    photo = load_photo((SAMPLES / PHOTOS[0]).read_bytes())
    pool = PoseModel(workers=2)
    pool.close()
    pool.close()  # twice is fine
    with pytest.raises(ModelError, match="closed"):
        pool.detect(photo.rgb)
    with pytest.raises(ModelError, match="closed"):
        pool.detect_many([photo.rgb, photo.rgb])


def _until(cond: Any, what: str) -> None:
    """Wait until ``cond()`` (polled; the deadline is only a guard against a hang)."""
    deadline = time.monotonic() + 120.0
    while not cond():
        assert time.monotonic() < deadline, f"hung waiting for {what}"
        time.sleep(0.005)


def test_a_free_landmarker_goes_to_the_oldest_analysis(monkeypatch: pytest.MonkeyPatch) -> None:
    """Turn order, not call order: with the one landmarker busy, the pass of the analysis that took
    its turn first gets it first although a later analysis asked before it (a plain queue would
    serve the later one first). One landmarker: the grants are strictly one after the other."""
    photo = load_photo((SAMPLES / PHOTOS[0]).read_bytes())
    small = np.ascontiguousarray(cv2.resize(photo.rgb, None, fx=0.5, fy=0.5))
    granted: list[str] = []
    names: dict[int, str] = {}

    with PoseModel(workers=1) as pool:
        take = pool._take

        def recording_take(turn: int | None) -> Any:
            lm = take(turn)
            granted.append(names.get(turn if turn is not None else -1, "?"))
            return lm

        def analysis(name: str, turn_taken: threading.Event, go: threading.Event) -> None:
            with pool.in_turn() as turn:
                names[turn] = name
                turn_taken.set()
                go.wait()
                pool.detect(small)

        held = take(None)  # the landmarker is busy
        monkeypatch.setattr(pool, "_take", recording_take)
        early, late = (threading.Event(), threading.Event()), (threading.Event(), threading.Event())
        threads = [threading.Thread(target=analysis, args=("early", *early)),
                   threading.Thread(target=analysis, args=("late", *late))]
        threads[0].start()
        early[0].wait()  # "early" holds the earlier turn ...
        threads[1].start()
        late[0].wait()
        late[1].set()  # ... but "late" asks first
        _until(lambda: pool.waiting == 1, "the late analysis to wait")
        early[1].set()
        _until(lambda: pool.waiting == 2, "both analyses to wait")
        pool._give_back(held)
        for t in threads:
            t.join()
    assert granted == ["early", "late"]


def test_spread_passes_run_earliest_turn_first() -> None:
    """The spreading threads take queued passes by turn, not by submission: a later analysis's
    round queued first still runs after an earlier analysis's (one thread: a strict order)."""
    spreader = _Spreader(1)
    ran: list[int] = []
    gate = threading.Event()
    try:
        blocker = spreader.submit(0, gate.wait)
        futures = [spreader.submit(turn, lambda t=turn: ran.append(t)) for turn in (7, 7, 3, 3, 5)]
        gate.set()
        blocker.result()
        for f in futures:
            f.result()
    finally:
        spreader.stop()
    assert ran == [3, 3, 5, 7, 7]
    with pytest.raises(ModelError, match="closed"):
        spreader.submit(1, lambda: None)


def _fd2() -> tuple[int, int]:
    st = os.fstat(2)
    return st.st_dev, st.st_ino


@pytest.mark.slow
def test_fd2_stays_the_original_while_analyses_run(model: PoseModel) -> None:
    """A served pass never points fd 2 elsewhere: sampled all through two analyses running side by
    side, and after them, fd 2 is the file it was before."""
    photos = [load_photo((SAMPLES / n).read_bytes()) for n in PHOTOS[:2]]
    original = _fd2()
    samples: list[tuple[int, int]] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append(_fd2())
            time.sleep(0.001)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        with ThreadPoolExecutor(max_workers=2) as ex:
            list(ex.map(lambda p: analyze(p, "anterior", AnalysisOptions(), model=model), photos))
    finally:
        stop.set()
        sampler.join()
    assert len(samples) > 50  # sampled all through the analyses
    assert set(samples) == {original}, "fd 2 was redirected while a pass was served"
    assert _fd2() == original


@pytest.mark.slow
def test_an_error_logged_while_another_session_analyses_reaches_the_log(
        model: PoseModel, capfd: pytest.CaptureFixture[str]) -> None:
    """One thread analyses a photo (its passes on the pool); another - a second app session - fails
    again and again meanwhile and logs each failure with its traceback to fd 2, as the server's
    log handler does. Every one of those lines reaches fd 2 (today's server log), none is lost."""
    photo = load_photo((SAMPLES / PHOTOS[2]).read_bytes())
    stream = open(2, "w", closefd=False, buffering=1)  # noqa: SIM115 - fd 2 itself, like the server
    handler = logging.StreamHandler(stream)
    log = logging.getLogger("posture.test.other_session")
    log.addHandler(handler)
    log.propagate = False
    done = threading.Event()
    started = threading.Event()

    def analyse() -> None:
        try:
            started.set()
            analyze(photo, "anterior", AnalysisOptions(), model=model)
        finally:
            done.set()

    worker = threading.Thread(target=analyse)
    worker.start()
    started.wait()
    logged = 0
    try:
        while not done.is_set():
            try:
                raise RuntimeError(f"session failure {logged}")
            except RuntimeError:
                log.error("other session failed #%d", logged, exc_info=True)
            logged += 1
            time.sleep(0.005)
    finally:
        worker.join()
        log.removeHandler(handler)
        stream.close()
    err = capfd.readouterr().err
    assert logged >= 10, logged  # the analysis ran while the errors were logged
    lost = [i for i in range(logged) if f"other session failed #{i}\n" not in err]
    assert not lost, f"{len(lost)} of {logged} log lines lost"
    assert err.count("Traceback (most recent call last)") == logged
    assert err.count("RuntimeError: session failure") == logged


@pytest.mark.browser
@pytest.mark.slow
@needs_chromium
def test_four_concurrent_sessions_keep_their_own_results(server: AppServer, budget: Budget,
                                                         model: PoseModel) -> None:
    expected = _expected(model)
    t0 = time.monotonic()
    seen = asyncio.run(_run_sessions(server, budget, expected))
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
    print(f"4 concurrent sessions: {wall:.1f} s wall (one alone: {budget.single_s:.1f} s, limit "
          f"{budget.limit_s(len(PHOTOS)):.0f} s); upload->result per session: "
          + ", ".join(f"{s.name} {s.seconds:.1f} s" for s in seen))



def test_ci_strictness_reads_the_environment() -> None:
    assert strict_components({}) == frozenset()
    assert strict_components({"CI": "false"}) == frozenset()
    assert strict_components({"CI": "true"}) == {"postgresql", "chromium"}
    assert strict_components({"POSTURE_TEST_STRICT": "1"}) == {"postgresql", "chromium"}
    assert strict_components({"POSTURE_TEST_PG_REQUIRED": "1"}) == {"postgresql"}


FAKE_SUITE = """
import pytest

@pytest.mark.browser
def test_in_chromium():
    pytest.skip("needs Debian chromium at /usr/bin/chromium")

@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request):
    if request.param == "postgresql":
        pytest.skip("PostgreSQL tests need POSTURE_TEST_PG_URL=postgresql+psycopg://... (unset)")
    return request.param

def test_pg_only(db_url):
    if db_url != "postgresql":
        pytest.skip("the PostgreSQL table files")

def test_sqlite_only(db_url):
    pytest.skip("raw file search is for SQLite")

def test_unrelated():
    pytest.skip("nothing to do with a component")
"""


def _outcomes(tmp_path: Path, env: dict[str, str]) -> dict[str, str]:
    """Run FAKE_SUITE with tests/conftest.py's hooks; test name -> passed/skipped/failed."""
    (tmp_path / "test_fake.py").write_text(FAKE_SUITE)
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    browser: x\n")
    xml = tmp_path / "out.xml"
    base = {k: v for k, v in os.environ.items()
            if k not in ("CI", "POSTURE_TEST_STRICT", "POSTURE_TEST_PG_REQUIRED")}
    subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider", "-q",
         "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path), f"--junitxml={xml}",
         str(tmp_path / "test_fake.py")],
        cwd=ROOT, env={**base, **env}, capture_output=True, timeout=300, check=False,
    )
    out = {}
    for case in ET.parse(xml).getroot().iter("testcase"):
        kinds = {child.tag for child in case}
        out[case.attrib["name"]] = ("failed" if kinds & {"failure", "error"}
                                    else "skipped" if "skipped" in kinds else "passed")
    return out


def test_on_ci_a_skipped_component_fails(tmp_path: Path) -> None:
    """With CI=true the Chromium skip and the PostgreSQL variant's skip fail, with the reason; the
    SQLite variant of a PostgreSQL-only check, a check that does not apply to one backend and an
    unrelated skip stay skips. Without CI all skip."""
    assert _outcomes(tmp_path, {}) == {
        "test_in_chromium": "skipped", "test_pg_only[sqlite]": "skipped",
        "test_pg_only[postgresql]": "skipped", "test_sqlite_only[sqlite]": "skipped",
        "test_sqlite_only[postgresql]": "skipped", "test_unrelated": "skipped",
    }
    assert _outcomes(tmp_path, {"CI": "true"}) == {
        "test_in_chromium": "failed", "test_pg_only[sqlite]": "skipped",
        "test_pg_only[postgresql]": "failed", "test_sqlite_only[sqlite]": "skipped",
        "test_sqlite_only[postgresql]": "failed", "test_unrelated": "skipped",
    }
