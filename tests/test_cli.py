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


ARMS_OUT = SAMPLES / "yogait_t4.jpg"  # arms held out sideways: the photo check holds the findings


@pytest.mark.slow
def test_confirm_stance_releases_the_held_findings() -> None:
    held = _run("analyze", str(ARMS_OUT), "--fast", "--json")
    confirmed = _run("analyze", str(ARMS_OUT), "--fast", "--json", "--confirm-stance")
    assert held.returncode == 0 and confirmed.returncode == 0, held.stderr + confirmed.stderr
    h, c = json.loads(held.stdout), json.loads(confirmed.stdout)
    assert h["capture"]["confirmed"] is False and "findings" not in h
    assert "held back" in h["findings_held"] and "let the arms hang" in h["findings_held"]
    assert c["capture"]["confirmed"] is True and c["findings"] and "findings_held" not in c
    # the same photo check and the same measurements either way: only the confirmation differs
    assert c["capture"]["checks"] == h["capture"]["checks"]
    assert c["measurements"] == h["measurements"]


def test_text_output_prints_the_failed_checks_and_the_hold_reason() -> None:
    proc = _run("analyze", str(ARMS_OUT), "--fast")
    assert proc.returncode == 0, proc.stderr
    checks = [line for line in proc.stdout.splitlines() if line.strip().startswith("photo check:")]
    assert any("arms are not relaxed" in line and "let the arms hang" in line for line in checks)
    assert any(line.strip().startswith("findings:") and "held back" in line and "--confirm-stance" in line
               for line in proc.stdout.splitlines())
    assert "finding:" not in proc.stdout
    ok = _run("analyze", str(ARMS_OUT), "--fast", "--confirm-stance")
    assert "held back" not in ok.stdout and "  finding: " in ok.stdout


@pytest.mark.slow
def test_compare_names_a_photo_whose_stance_is_not_neutral() -> None:
    neutral = str(SAMPLES / "yogait_tada1.jpg")
    proc = _run("compare", str(ARMS_OUT), neutral, "--fast")
    assert proc.returncode == 0, proc.stderr
    lines = [x for x in proc.stdout.splitlines() if "photo check" in x]
    assert lines and all(x.strip().startswith("photo check (before):") for x in lines)
    assert any("let the arms hang" in x for x in lines)
    confirmed = _run("compare", str(ARMS_OUT), neutral, "--fast", "--confirm-stance")
    assert confirmed.returncode == 0 and "photo check" not in confirmed.stdout
