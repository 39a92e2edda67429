"""Shared fixtures: the shipped sample photos and one pose model for the whole session."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
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
