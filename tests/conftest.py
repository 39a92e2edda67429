"""Shared fixtures: the shipped sample photos and one pose model for the whole session."""

from __future__ import annotations

import io
import os
from collections.abc import Generator, Iterator, Mapping
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from posture.pose import PoseModel

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_images"
FRONT = SAMPLES / "yogait_tada3.jpg"  # one man standing, front view, whole body
FRONT_WIDE = SAMPLES / "yogait_tada_photo.jpg"  # wide office shot, person small in frame
BACK = SAMPLES / "coco_000000183709.jpg"  # back view, legs cut at the knees
TWO_PEOPLE = SAMPLES / "coco_000000442450.jpg"


@pytest.fixture(scope="session", autouse=True)
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test may write to the real ~/.local/share/posture: every store defaults to a tmp dir."""
    old = {k: os.environ.get(k) for k in ("POSTURE_DATA_DIR", "POSTURE_DATABASE_URL")}
    os.environ["POSTURE_DATA_DIR"] = str(tmp_path_factory.mktemp("posture-data"))
    os.environ.pop("POSTURE_DATABASE_URL", None)
    yield
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture
def app_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty clinic store in a tmp dir for one app test, with the app's store cache cleared."""
    from ui.nav import clear_store_cache

    d = tmp_path / "posture-data"
    monkeypatch.delenv("POSTURE_DATABASE_URL", raising=False)
    monkeypatch.setenv("POSTURE_DATA_DIR", str(d))
    clear_store_cache()
    yield d
    clear_store_cache()


# --- one real app server per browser test module (tests/app_server.py) ---------------------------


@pytest.fixture(scope="module")
def data_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app's clinic store for one browser test module: a tmp dir, never the real home dir."""
    return tmp_path_factory.mktemp(f"posture-{request.module.__name__.rsplit('.', 1)[-1]}")


@pytest.fixture(scope="module")
def server(data_dir: Path) -> Iterator[object]:
    """A real `streamlit run app.py` on a free port for the module (a module may define its own)."""
    from tests.app_server import app_server

    with app_server(data_dir) as srv:
        yield srv


@pytest.fixture(scope="module")
def budget(request: pytest.FixtureRequest, server: object) -> object:
    """Time limits from one session alone on this server, measured now (not on an idle machine),
    with the module's MEASURE_PHOTO."""
    from tests.app_server import AppServer, measure_single_session

    assert isinstance(server, AppServer)
    return measure_single_session(server, request.module.MEASURE_PHOTO)


@pytest.fixture(scope="session")
def model() -> Iterator[PoseModel]:
    with PoseModel() as m:
        yield m


def rgb_of(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def encode(rgb: np.ndarray, fmt: str = "JPEG", **kw: object) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format=fmt, **kw)
    return buf.getvalue()


# --- on CI a skipped real component is a failure -------------------------------------------------
# With CI=true (set by .ci/run when unset) or POSTURE_TEST_STRICT=1, a test that skips because
# PostgreSQL or Chromium is missing FAILS with the skip's reason; POSTURE_TEST_PG_REQUIRED=1 does the
# same for PostgreSQL alone. Other skips (a PostgreSQL-only check on its SQLite variant) stay skips.
STRICT_ENV = ("CI", "POSTURE_TEST_STRICT")
PG_REQUIRED_ENV = "POSTURE_TEST_PG_REQUIRED"
TRUTHY = frozenset({"1", "true", "yes", "on"})


def strict_components(environ: Mapping[str, str]) -> frozenset[str]:
    """The components whose absence fails the run: {"postgresql", "chromium"} on CI."""
    def on(name: str) -> bool:
        return environ.get(name, "").strip().lower() in TRUTHY

    strict = any(on(k) for k in STRICT_ENV)
    return frozenset(({"postgresql", "chromium"} if strict else set())
                     | ({"postgresql"} if on(PG_REQUIRED_ENV) else set()))


def skipped_component(item: pytest.Item, reason: str) -> str | None:
    """Which real component a skip of ``item`` stands for: a browser test (marker ``browser``) skips
    for Chromium; a store test skips for PostgreSQL when its fixture found no server (its reason
    names POSTURE_TEST_PG_URL). A check that does not apply to a backend (the raw SQLite file search
    on the PostgreSQL variant, PostgreSQL's table files on SQLite) is a plain skip."""
    if item.get_closest_marker("browser") is not None or "chromium" in reason.lower():
        return "chromium"
    if "POSTURE_TEST_PG_URL" in reason:
        return "postgresql"
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[
        None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:  # a test that used an app server (tests/app_server.py): its log's tail
        for value in getattr(item, "funcargs", {}).values():
            tail = getattr(value, "log_tail", None)
            if callable(tail):
                report.sections.append((f"app server log {getattr(value, 'log', '')} (tail)", str(tail())))
    if report.skipped and not hasattr(report, "wasxfail"):
        longrepr = report.longrepr
        reason = str(longrepr[2]) if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        component = skipped_component(item, reason)
        if component is not None and component in strict_components(os.environ):
            report.outcome = "failed"
            report.longrepr = (f"{component} is required here (CI / POSTURE_TEST_STRICT / "
                               f"{PG_REQUIRED_ENV}) but the test skipped: {reason}")
    return report
