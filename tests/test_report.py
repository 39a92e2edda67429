"""Report: annotated photo, report model, PDF (read back with pypdf), CLI."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from pypdf import PdfReader

from posture.analysis import AnalysisOptions, analyze, correct_landmarks
from posture.cli import main
from posture.findings import RED_FLAGS, attach_findings
from posture.formatting import format_value
from posture.imaging import load_photo
from posture.pose import PoseModel
from posture.report.annotate import AnnotateOptions, annotate
from posture.report.layout import safe_text
from posture.report.model import build_report, md_escape
from posture.report.pdf import render_pdf
from tests.conftest import BACK, FRONT

OPTS = AnalysisOptions(auto_level=False)


@pytest.fixture(scope="module")
def front(model: PoseModel):  # type: ignore[no-untyped-def]
    photo = load_photo(FRONT)
    return photo, attach_findings(analyze(photo, "anterior", OPTS, model=model))


@pytest.fixture(scope="module")
def back(model: PoseModel):  # type: ignore[no-untyped-def]
    photo = load_photo(BACK)
    return photo, attach_findings(analyze(photo, "posterior", OPTS, model=model))


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(p.extract_text() or "" for p in reader.pages)


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


# -- annotate -----------------------------------------------------------------------------------------


def _color_near(img: np.ndarray, xy: tuple[float, float], color: tuple[int, int, int], r: int) -> bool:
    x, y = round(xy[0]), round(xy[1])
    patch = img[max(y - r, 0):y + r + 1, max(x - r, 0):x + r + 1].astype(int)
    return bool((np.abs(patch - np.array(color)).sum(axis=2) < 40).any())


def test_annotate_is_pure_and_draws_the_lines(front) -> None:  # type: ignore[no-untyped-def]
    photo, analysis = front
    before = photo.rgb.copy()
    o = AnnotateOptions()
    out = annotate(photo, analysis, o)
    assert np.array_equal(photo.rgb, before)  # input untouched
    assert out.shape == photo.rgb.shape and out.dtype == np.uint8
    s = photo.scale
    rs = np.array(analysis.point_xy("right_shoulder")) * s
    ls = np.array(analysis.point_xy("left_shoulder")) * s
    rh = np.array(analysis.point_xy("right_hip")) * s
    lh = np.array(analysis.point_xy("left_hip")) * s
    r = max(2, round(0.004 * max(out.shape)))
    assert _color_near(out, tuple((rs + ls) / 2), o.shoulder, r)
    assert _color_near(out, tuple((rh + lh) / 2), o.hip, r)
    assert not _color_near(photo.rgb, tuple((rs + ls) / 2), o.shoulder, r)
    # plumb line: true vertical through the ankle midpoint, visible between ankle and hip height
    ank = (np.array(analysis.point_xy("right_ankle")) + np.array(analysis.point_xy("left_ankle"))) / 2
    ank *= s
    hits = [_color_near(out, (ank[0], y), o.plumb, r)
            for y in np.linspace(rh[1], ank[1], 12)[1:-1]]
    assert sum(hits) >= 4  # dashed


def test_annotate_marks_manual_points_differently(front) -> None:  # type: ignore[no-untyped-def]
    photo, analysis = front
    o = AnnotateOptions()
    x, y = analysis.point_xy("left_knee")
    moved = correct_landmarks(analysis, {"left_knee": (x + 4, y)})
    s = photo.scale
    at = ((x + 4) * s, y * s)
    r = max(3, round(0.012 * max(photo.rgb.shape)))
    assert _color_near(annotate(photo, moved, o), at, o.manual, r)
    assert not _color_near(annotate(photo, analysis, o), at, o.manual, r)


def test_annotate_follows_the_camera_roll(front) -> None:  # type: ignore[no-untyped-def]
    """The dashed reference is a TRUE horizontal: drawn at image angle +roll_deg."""
    photo, analysis = front
    white = (255, 255, 255)
    s = photo.scale
    sy = analysis.point_xy("right_shoulder")[1] * s

    def reference_angle(tilted) -> float:  # type: ignore[no-untyped-def]
        img = annotate(photo, tilted, AnnotateOptions(reference=white, **_no_colors()))
        base = annotate(photo, tilted, AnnotateOptions(reference=(0, 0, 0), **_no_colors()))
        diff = np.abs(img.astype(int) - base.astype(int)).sum(axis=2) > 60
        ys, xs = np.nonzero(diff)
        keep = np.abs(ys - sy) < 0.08 * img.shape[0]  # the shoulder reference only
        assert keep.sum() > 20
        return float(np.degrees(np.arctan(np.polyfit(xs[keep], ys[keep], 1)[0])))

    for roll in (0.0, 6.0, -4.0):
        assert reference_angle(_with_roll(analysis, roll)) == pytest.approx(roll, abs=0.7)


def _no_colors() -> dict[str, tuple[int, int, int]]:
    k = (0, 0, 0)
    return {"shoulder": k, "hip": k, "plumb": k, "skeleton": k, "point": k, "manual": k,
            "short_side": k}


def _with_roll(analysis, roll: float):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(analysis, level={**analysis.level, "roll_deg": roll})


# -- report model --------------------------------------------------------------------------------------


def test_report_rows_carry_values_and_sides(front) -> None:  # type: ignore[no-untyped-def]
    photo, analysis = front
    rep = build_report(photo, analysis, client="Ann", when="1 Jan 2025")
    names = [r.name for r in rep.measurements]
    assert names == list(analysis.measurements)
    for row in rep.measurements:
        m = analysis.measurements[row.name]
        if m.available:
            number, unc = re.match(r"([-+]?\d+\.\d)\D+± (\d+\.\d)", row.value).groups()  # type: ignore[union-attr]
            assert float(number) == pytest.approx(m.value, abs=0.051)
            assert float(unc) == pytest.approx(m.uncertainty, abs=0.051)
            assert row.side == m.side
        else:
            assert row.value == "unavailable"
    assert rep.red_flags == RED_FLAGS
    assert "not a diagnosis" in rep.disclaimer
    assert rep.findings == analysis.findings and rep.findings


def test_sections_escape_user_markdown(front) -> None:  # type: ignore[no-untyped-def]
    photo, analysis = front
    rep = build_report(photo, analysis, client="**bold** <b>x</b>", notes="$x$ [link](http://a)")
    secs = dict(rep.sections())
    head = secs["Posture screening report"]
    assert isinstance(head, str)
    assert r"\*\*bold\*\*" in head and r"\<b\>" in head
    assert "Red flags" in " ".join(secs)
    notes = secs["Therapist notes"]
    assert isinstance(notes, str) and r"\$x\$" in notes and r"\[link\]" in notes
    assert md_escape("a_b") == r"a\_b"


# -- PDF -----------------------------------------------------------------------------------------------


def test_pdf_contains_values_sides_findings_and_red_flags(front) -> None:  # type: ignore[no-untyped-def]
    photo, analysis = front
    rep = build_report(photo, analysis, client="Ann Example", when="1 Jan 2025")
    data = render_pdf(rep, annotate(photo, analysis))
    assert data.startswith(b"%PDF")
    text = flat(pdf_text(data))
    assert "Ann Example" in text and "1 Jan 2025" in text
    for m in analysis.measurements.values():
        if not m.available:
            continue
        value = format_value(m.value, m.unit, m.uncertainty).split(" ± ")[0]
        assert value in text, value
        assert m.side in text, m.side
    assert "°" in text and "±" in text
    for f in analysis.findings:
        assert f.title in text
    for flag in RED_FLAGS:
        assert flat(flag) in text, flag
    assert "not a diagnosis" in text


def test_pdf_for_a_back_view_with_the_core_finding(back) -> None:  # type: ignore[no-untyped-def]
    """A constructed core finding prints its hip, the sciatic nerve and its exercises."""
    from posture.findings import derive_findings
    from tests.test_findings import mset

    photo, analysis = back
    # the shipped back photo's arms are in front of the body, so its findings wait for the
    # therapist: the confirmation that this is the client's habit releases them
    assert analysis.capture.holds_findings
    held = build_report(photo, analysis, findings=derive_findings(mset(shoulder_tilt=3.5, hip_tilt=2.0)))
    assert "check the left hip" not in flat(pdf_text(render_pdf(held, annotate(photo, analysis))))
    analysis = dataclasses.replace(analysis, capture=analysis.capture.with_confirmation(True))
    fs = derive_findings(mset(shoulder_tilt=3.5, hip_tilt=2.0))
    rep = build_report(photo, analysis, findings=fs)
    text = flat(pdf_text(render_pdf(rep, annotate(photo, analysis))))
    assert "check the left hip" in text
    assert "sciatic nerve" in text
    assert "Figure-4 piriformis stretch: left hip" in text
    assert "posterior (back) view" in text


HOSTILE_NAME = 'Zoë "Z" O\'Brien 🦄👍🏽 <script>alert(1)</script> **bold** & <b>x</b>'


def test_hostile_user_text_prints_literally(front) -> None:  # type: ignore[no-untyped-def]
    photo, analysis = front
    notes = "Line one\n" + "Q" * 5000 + "\n\tTabbed\x00 and \u202e reversed **not bold** # heading"
    rep = build_report(photo, analysis, client=HOSTILE_NAME, notes=notes)
    data = render_pdf(rep, annotate(photo, analysis))
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 2
    raw = pdf_text(data)
    text = flat(raw)
    for piece in ('Zoë "Z" O\'Brien', "<script>alert(1)</script>", "**bold**", "& <b>x</b>",
                  "**not bold** # heading", "Tabbed"):
        assert piece in text, piece
    assert "🦄" not in text and "?" in text  # the font has no unicorn: replaced, not crashed
    assert raw.count("Q") == 5000  # the long line is all there, wrapped over several lines
    assert max(len(line) for line in raw.splitlines()) < 200


def test_safe_text_replaces_only_what_the_font_lacks() -> None:
    assert safe_text("5.2° ± 1.0° Zoë") == "5.2° ± 1.0° Zoë"
    assert safe_text("a🦄b") == "a?b"
    assert safe_text("a\x07b\tc\u202ed") == "ab    cd"  # control and bidi characters dropped (posture.text)


def test_blur_faces_changes_only_the_head(front) -> None:  # type: ignore[no-untyped-def]
    photo, analysis = front
    rep = build_report(photo, analysis)
    img = annotate(photo, analysis)

    def page_image(blur: bool) -> np.ndarray:
        reader = PdfReader(io.BytesIO(render_pdf(rep, img, blur_faces=blur)))
        return np.asarray(reader.pages[0].images[0].image.convert("RGB"))

    plain, blurred = page_image(False), page_image(True)
    # the PDF holds the photo at print resolution (same aspect), as JPEG
    assert plain.shape == blurred.shape
    assert plain.shape[1] <= img.shape[1]
    assert abs(plain.shape[0] / plain.shape[1] - img.shape[0] / img.shape[1]) < 0.01
    s = plain.shape[1] / rep.image_size[0]
    x0, y0, x1, y1 = (max(0, round(v * s)) for v in rep.face_boxes[0])

    def sharpness(a: np.ndarray) -> float:
        gray = cv2.cvtColor(np.ascontiguousarray(a), cv2.COLOR_RGB2GRAY)
        return float(cv2.Laplacian(gray, cv2.CV_64F).var())

    assert sharpness(blurred[y0:y1, x0:x1]) < 0.5 * sharpness(plain[y0:y1, x0:x1])
    # well below the head nothing changes (beyond JPEG's 8-16 px blocks)
    below = np.abs(plain[y1 + 16:].astype(int) - blurred[y1 + 16:].astype(int))
    assert below.mean() < 0.5


# -- CLI -----------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_cli_report_writes_a_pdf(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "r.pdf"
    png = tmp_path / "a.png"
    rc = main(["report", str(FRONT), "--fast", "--no-level", "--client", "Ann", "--notes",
               "**x**", "--blur-faces", "--annotated", str(png), "-o", str(out)])
    assert rc == 0
    text = flat(pdf_text(out.read_bytes()))
    assert "Ann" in text and "**x**" in text and "Red flags" in text
    assert png.read_bytes().startswith(b"\x89PNG")


def test_cli_report_missing_photo_is_a_clean_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(["report", str(tmp_path / "none.jpg"), "-o", str(tmp_path / "r.pdf")])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("posture:") and "Traceback" not in err
    assert not (tmp_path / "r.pdf").exists()


@pytest.mark.slow
def test_cli_analyze_json_has_findings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(FRONT), "--json", "--fast", "--no-level"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["findings"] and {"key", "severity", "text", "sides"} <= set(d["findings"][0])


def test_sections_carry_what_the_findings_display_needs(front) -> None:  # type: ignore[no-untyped-def]
    from posture.findings import derive_findings
    from tests.test_findings import mset

    photo, analysis = front
    found = derive_findings(mset(shoulder_tilt=4.0, hip_tilt=3.0))
    assert found[0].key == "side_bend_opposite_hip" and found[0].checks
    rep = build_report(photo, analysis, findings=found)
    secs = dict(rep.sections())
    body = secs["Findings"]
    assert isinstance(body, str)
    for f in found:
        assert md_escape(f.title) in body and md_escape(f.text) in body
        for c in f.checks:
            assert md_escape(c) in body, c
        for e in f.evidence:
            assert md_escape(e.text) in body, e.text
    rows = secs["Exercises"]
    assert isinstance(rows, list) and len(rows) == len(rep.exercises) > 0
    for row, p in zip(rows, rep.exercises, strict=True):
        assert row["cues"] == "; ".join(p.exercise.cues)
        assert row["for"] == "; ".join(p.reasons) and found[0].title in row["for"]


# -- the photo check -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def arms_out(model: PoseModel):  # type: ignore[no-untyped-def]
    photo = load_photo(FRONT.parent / "yogait_t4.jpg")  # arms held out sideways
    return photo, attach_findings(analyze(photo, "anterior", OPTS, model=model))


def test_pdf_holds_findings_and_exercises_with_the_reason(arms_out) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    photo, analysis = arms_out
    assert analysis.capture.holds_findings and not analysis.findings
    rep = build_report(photo, analysis)
    assert rep.findings == () and rep.exercises == () and rep.findings_held
    text = flat(pdf_text(render_pdf(rep, annotate(photo, analysis))))
    assert "Photo check" in text
    for c in analysis.capture.failed:  # every failed check with what to do
        assert flat(safe_text(c.message)) in text, c.message
    # the reason in place of the findings (its text may run across a page break)
    held = text[text.index("Findings and exercises are held back:"):]
    assert "let the arms hang" in held and "habitually stands to see them" in held
    assert "Exercises" not in text
    for flag in RED_FLAGS:  # red flags always
        assert flat(flag) in text, flag
    secs = dict(rep.sections())
    assert secs["Findings"] == md_escape(rep.findings_held) and "Exercises" not in secs
    assert "arms are not relaxed" in str(secs["Photo check"]).replace("\\", "")
    assert rep.to_dict()["capture"]["confirmed"] is False

    # confirmed by the therapist: the findings and their exercises come back, the check stays listed
    ok = attach_findings(dataclasses.replace(
        analysis, capture=analysis.capture.with_confirmation(True)))
    rep2 = build_report(photo, ok)
    assert rep2.findings and not rep2.findings_held
    text2 = flat(pdf_text(render_pdf(rep2, annotate(photo, ok))))
    assert "held back" not in text2 and "habitually stands" in text2
    for f in rep2.findings:
        assert f.title in text2


def test_pdf_says_when_all_checks_passed(front) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from posture.capture import Capture, CaptureCheck
    from posture.report.model import PHOTO_CHECK_PASSED

    photo, analysis = front
    passed = dataclasses.replace(analysis, capture=Capture(tuple(
        CaptureCheck(c.key, True, c.message) for c in analysis.capture.checks)))
    text = flat(pdf_text(render_pdf(build_report(photo, passed), annotate(photo, passed))))
    assert flat(PHOTO_CHECK_PASSED) in text


@pytest.mark.slow
def test_cli_report_with_and_without_confirm_stance(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = str(FRONT.parent / "yogait_t4.jpg")
    held, ok = tmp_path / "held.pdf", tmp_path / "ok.pdf"
    assert main(["report", photo, "--fast", "--no-level", "-o", str(held)]) == 0
    out = capsys.readouterr().out
    assert "held back" in out and "--confirm-stance" in out  # said on the terminal too
    assert main(["report", photo, "--fast", "--no-level", "--confirm-stance", "-o", str(ok)]) == 0
    assert "held back" not in capsys.readouterr().out
    t_held, t_ok = flat(pdf_text(held.read_bytes())), flat(pdf_text(ok.read_bytes()))
    assert "Photo check" in t_held and "held back" in t_held and "Red flags" in t_held
    assert "held back" not in t_ok and "habitually stands" in t_ok and "Red flags" in t_ok


def test_a_view_conflict_is_printed_once_in_the_photo_check(model: PoseModel) -> None:
    photo = load_photo(FRONT.parent / "yogait_tada1.jpg")  # a front photo, declared a back view
    analysis = attach_findings(analyze(photo, "posterior", AnalysisOptions(refine=False), model=model))
    view = analysis.capture.check("view_matches")
    assert not view.ok and view.message in analysis.warnings
    rep = build_report(photo, analysis)
    assert view.message in rep.photo_check_lines() and view.message not in rep.warnings
    assert rep.findings == () and "Choose the right view" in rep.findings_held
    text = flat(pdf_text(render_pdf(rep, annotate(photo, analysis))))
    # in the photo check and in the hold reason, not again among the warnings
    assert text.count("declared a posterior") == 2
