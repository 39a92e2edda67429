"""The command line on a folder: one JSON object per line, in order, with or without workers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SAMPLES


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "posture.cli", *args], capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
def test_folder_batch_with_two_workers_matches_one(tmp_path: Path) -> None:
    names = ["yogait_t4.jpg", "yogait_tada3.jpg", "yogait_tada4.jpg"]
    for n in names:
        shutil.copy(SAMPLES / n, tmp_path / n)
    (tmp_path / "broken.jpg").write_bytes(b"not a photo")
    one = _run("analyze", str(tmp_path), "--fast", "--no-level", "--jobs", "1")
    two = _run("analyze", str(tmp_path), "--fast", "--no-level", "--jobs", "2")
    for proc in (one, two):
        assert proc.returncode == 2  # one file failed, the others were analysed
        assert "Traceback" not in proc.stderr
        assert proc.stderr.count("broken.jpg") == 1
        rows = [json.loads(line) for line in proc.stdout.splitlines()]
        assert len(rows) == len(names)
        assert all(r["schema"] == "posture.analysis/1" for r in rows)
    widths_one = [json.loads(x)["image"]["width"] for x in one.stdout.splitlines()]
    widths_two = [json.loads(x)["image"]["width"] for x in two.stdout.splitlines()]
    assert widths_one == widths_two  # same order (sorted file names)
    a = [json.loads(x)["measurements"]["shoulder_tilt"]["value"] for x in one.stdout.splitlines()]
    b = [json.loads(x)["measurements"]["shoulder_tilt"]["value"] for x in two.stdout.splitlines()]
    assert a == b


def test_single_photo_summary_names_sides() -> None:
    proc = _run("analyze", str(SAMPLES / "yogait_tada3.jpg"), "--no-level")
    assert proc.returncode == 0, proc.stderr
    assert "Shoulder line tilt" in proc.stdout
    assert "±" in proc.stdout
    assert any(w in proc.stdout for w in ("right shoulder lower", "left shoulder lower", "shoulders level"))
