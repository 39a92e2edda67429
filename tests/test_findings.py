"""Findings on constructed measurement sets, and the exercise library."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from posture.findings import (
    MARKED,
    MILD,
    MODERATE,
    NOISE,
    PATTERN_ROLES,
    ExerciseLibraryError,
    FindingOptions,
    counts,
    derive_findings,
    load_exercises,
    select_exercises,
    shipped_exercises_path,
)
from posture.metrics import SPEC_BY_NAME, Measurement

UNITS = {"shoulder_tilt": "deg", "hip_tilt": "deg", "head_tilt": "deg",
         "trunk_shift": "cm", "pelvic_shift": "cm", "side_shortening": "cm"}


def meas(name: str, value: float | None, unc: float = 0.5, unit: str | None = None) -> Measurement:
    spec = SPEC_BY_NAME[name]
    if value is None:
        return Measurement(name, spec.label, None, UNITS[name], "unavailable", None, (),
                           available=False, reason="cut off")
    pos, neg, zero = spec.words
    side = zero if value == 0 else (pos if value > 0 else neg)
    return Measurement(name, spec.label, value, unit or UNITS[name], side, unc, ())


def mset(**values: float) -> dict[str, Measurement]:
    """All six measurements, the given ones set, the rest level (0 ± 0.5)."""
    return {n: meas(n, values.get(n, 0.0)) for n in UNITS}


def mirrored(ms: dict[str, Measurement]) -> dict[str, Measurement]:
    return {n: meas(n, -m.value if m.value is not None else None, m.uncertainty or 0.0, m.unit)
            for n, m in ms.items()}


def swap_sides(text: str) -> str:
    table = {"left": "right", "right": "left", "Left": "Right", "Right": "Left"}
    return re.sub(r"\b(left|right|Left|Right)\b", lambda m: table[m.group(1)], text)


def keys(fs: tuple) -> list[str]:  # type: ignore[type-arg]
    return [f.key for f in fs]


# -- the core link ----------------------------------------------------------------------------------


def test_low_right_shoulder_with_high_left_hip_names_left_hip_and_sciatic_nerve() -> None:
    # right shoulder lower (+) and hip_tilt + (right hip lower = LEFT hip higher)
    fs = derive_findings(mset(shoulder_tilt=3.5, hip_tilt=2.0))
    core = [f for f in fs if f.key == "side_bend_opposite_hip"]
    assert len(core) == 1
    f = core[0]
    assert f.check_side == "left"
    assert f.sides["short_side"] == "right"
    assert f.sides["loaded_hip"] == "left"
    assert "left hip" in f.title
    for word in ("sciatic nerve", "piriformis", "left hip", "not a diagnosis", "FAIR",
                 "straight-leg raise", "disc", "femoral", "coming back"):
        assert word in f.text, word
    # both measurements are the evidence, with their ±
    assert {e.name for e in f.evidence} == {"shoulder_tilt", "hip_tilt"}
    assert any("± 0.5°" in e.text for e in f.evidence)
    # no separate shoulder/hip findings for the same numbers
    assert "hip_high" not in keys(fs) and "shoulder_low" not in keys(fs)


def test_core_from_side_shortening_alone() -> None:
    # left trunk shorter (-) and right hip higher (hip_tilt -): check the RIGHT hip
    fs = derive_findings(mset(side_shortening=-2.5, hip_tilt=-1.8))
    f = next(f for f in fs if f.key == "side_bend_opposite_hip")
    assert f.check_side == "right"
    assert f.sides["short_side"] == "left"
    assert "shorter on the left" in f.text


def test_hip_high_on_the_same_side_is_trunk_shortening_not_the_opposite_hip_link() -> None:
    # right shoulder low, right side short, RIGHT hip high (hip_tilt -): a right hip hike
    fs = derive_findings(mset(shoulder_tilt=2.0, side_shortening=3.0, hip_tilt=-2.0))
    assert keys(fs) == ["trunk_shortening"]
    f = fs[0]
    assert f.sides == {"short_side": "right", "long_side": "left"}
    assert f.check_side is None
    assert "right hip sits higher" in f.text


def test_conflicting_shoulder_and_shortening_report_both_without_core() -> None:
    # right shoulder low but LEFT side short, left hip high (hip_tilt +): no single short side
    fs = derive_findings(mset(shoulder_tilt=2.0, side_shortening=-3.0, hip_tilt=2.0))
    assert keys(fs) == ["trunk_shortening", "shoulder_low"]
    short, shoulder = fs
    assert short.sides["short_side"] == "left"
    assert "hip_tilt" in {e.name for e in short.evidence}  # the left hip hike shortens the left
    assert shoulder.sides["low_shoulder"] == "right"


# -- each rule on its side ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "key", "role", "side", "title_side"),
    [
        ({"shoulder_tilt": 2.0}, "shoulder_low", "low_shoulder", "right", "right"),
        ({"shoulder_tilt": -2.0}, "shoulder_low", "high_shoulder", "right", "left"),
        ({"hip_tilt": 2.0}, "hip_high", "high_hip", "left", "left"),
        ({"hip_tilt": -2.0}, "hip_high", "high_hip", "right", "right"),
        ({"side_shortening": 2.0}, "trunk_shortening", "short_side", "right", "right"),
        ({"trunk_shift": -2.0}, "lateral_shift", "shift_side", "left", "left"),
        ({"pelvic_shift": 2.0}, "lateral_shift", "shift_side", "right", "right"),
        ({"head_tilt": -3.0}, "head_tilt", "head_short_side", "left", "left"),
    ],
)
def test_rule_fires_on_its_side(
    values: dict[str, float], key: str, role: str, side: str, title_side: str
) -> None:
    fs = derive_findings(mset(**values))
    assert keys(fs) == [key]
    assert fs[0].sides[role] == side
    assert title_side in fs[0].title.lower()
    assert swap_sides(title_side) not in fs[0].title.lower()


def test_pelvic_shift_decides_the_leg_when_shifts_oppose() -> None:
    fs = derive_findings(mset(trunk_shift=2.0, pelvic_shift=-2.0))
    f = fs[0]
    assert f.key == "lateral_shift" and f.sides["shift_side"] == "left"
    assert "opposite" in f.text
    assert len(f.evidence) == 2


# -- mirror symmetry ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        {"shoulder_tilt": 3.5, "hip_tilt": 2.0},
        {"shoulder_tilt": 2.0, "side_shortening": 3.0, "hip_tilt": -2.0},
        {"side_shortening": -2.5, "hip_tilt": -1.8, "head_tilt": 2.5, "pelvic_shift": 1.5},
        {"trunk_shift": 2.0, "pelvic_shift": -3.0, "shoulder_tilt": -8.0},
        {"hip_tilt": 6.0},
    ],
)
def test_mirrored_input_gives_mirrored_findings(values: dict[str, float]) -> None:
    ms = mset(**values)
    a = derive_findings(ms)
    b = derive_findings(mirrored(ms))
    assert keys(a) == keys(b)
    for fa, fb in zip(a, b, strict=True):
        assert fb.sides == {r: ("left" if s == "right" else "right") for r, s in fa.sides.items()}
        assert fb.check_side == (None if fa.check_side is None else
                                 ("left" if fa.check_side == "right" else "right"))
        assert fb.text == swap_sides(fa.text)
        assert fb.title == swap_sides(fa.title)
        assert fb.severity == fa.severity
        assert [e.value for e in fb.evidence] == [-e.value for e in fa.evidence]


# -- noise ----------------------------------------------------------------------------------------------


def test_noise_level_input_is_within_normal_variation() -> None:
    opts = FindingOptions()
    # below the noise band although beyond the (tiny) uncertainty
    small = {n: meas(n, 0.8 if UNITS[n] == "deg" else -0.7, unc=0.1) for n in UNITS}
    fs = derive_findings(small, options=opts)
    assert keys(fs) == ["normal"]
    assert fs[0].severity == NOISE
    assert "normal variation" in fs[0].title
    # beyond the noise band but inside its own uncertainty
    wide = {n: meas(n, 4.0, unc=5.0) for n in UNITS}
    assert keys(derive_findings(wide)) == ["normal"]


def test_both_uncertainty_and_noise_band_must_be_exceeded() -> None:
    opts = FindingOptions()
    band = opts.shoulder_tilt.noise
    assert not counts(meas("shoulder_tilt", band * 0.99, unc=0.1), opts)
    assert not counts(meas("shoulder_tilt", band * 2, unc=band * 2.5), opts)
    assert counts(meas("shoulder_tilt", band * 2, unc=band * 1.5), opts)
    assert not counts(meas("shoulder_tilt", None), opts)


def test_nothing_measurable_is_not_called_normal() -> None:
    fs = derive_findings({n: meas(n, None) for n in UNITS})
    assert keys(fs) == ["not_assessable"]


def test_severity_bands_follow_the_cutoffs() -> None:
    c = FindingOptions().hip_tilt
    expect = {c.noise + 0.01: MILD, c.moderate + 0.01: MODERATE, c.marked + 0.01: MARKED}
    for v, band in expect.items():
        (f,) = derive_findings(mset(hip_tilt=v))
        assert f.severity == band, (v, f.severity)


def test_percent_units_use_percent_cutoffs() -> None:
    opts = FindingOptions()
    m = meas("trunk_shift", 2.0, unc=0.5, unit="% shoulder width")  # 2 % < 2.5 % noise band
    assert not counts(m, opts)
    m_cm = meas("trunk_shift", 2.0, unc=0.5, unit="cm")  # 2 cm > 1 cm
    assert counts(m_cm, opts)


def test_finding_to_dict() -> None:
    (f,) = derive_findings(mset(shoulder_tilt=3.5, hip_tilt=2.0))
    d = f.to_dict()
    assert d["key"] == "side_bend_opposite_hip" and d["check_side"] == "left"
    assert d["evidence"][0]["uncertainty"] == 0.5


# -- exercises ------------------------------------------------------------------------------------------


def test_shipped_library_is_valid_and_covers_each_pattern() -> None:
    lib = load_exercises(shipped_exercises_path())
    assert len(lib) >= 10
    kinds = {e.kind for e in lib}
    assert {"stretch", "strengthening", "nerve_glide", "self_release"} <= kinds
    served = {t.pattern for e in lib for t in e.targets}
    assert set(PATTERN_ROLES) - {"not_assessable"} <= served
    for e in lib:
        assert e.contraindications and e.cues, e.id


def test_prescriptions_resolve_sides_into_words() -> None:
    fs = derive_findings(mset(shoulder_tilt=3.5, hip_tilt=2.0))
    rx = {p.exercise.id: p for p in select_exercises(fs, load_exercises(shipped_exercises_path()))}
    assert rx["piriformis_figure4"].side_words == "left hip"
    assert rx["sciatic_nerve_slider"].side_words == "left leg"
    assert rx["lateral_trunk_stretch"].side_words == "right side"
    assert rx["upper_trap_stretch"].side_words == "left shoulder"
    assert rx["thoracic_side_bend"].side_words == "both sides"
    mirrored_rx = {p.exercise.id: p for p in select_exercises(
        derive_findings(mirrored(mset(shoulder_tilt=3.5, hip_tilt=2.0))),
        load_exercises(shipped_exercises_path()))}
    assert mirrored_rx["piriformis_figure4"].side_words == "right hip"


def test_same_exercise_on_both_sides_becomes_both() -> None:
    # glute med: loaded (left) hip from the core pattern + right leg from a right pelvic shift
    fs = derive_findings(mset(shoulder_tilt=3.5, hip_tilt=2.0, pelvic_shift=2.0))
    rx = [p for p in select_exercises(fs, load_exercises(shipped_exercises_path()))
          if p.exercise.id == "glute_med_side_lying"]
    assert len(rx) == 1 and rx[0].side == "both"
    assert len(rx[0].reasons) == 2


def test_user_library_overrides_shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user = tmp_path / "mine.toml"
    user.write_text(
        '[[exercise]]\nid = "walk"\nname = "Daily walk"\nkind = "mobility"\n'
        'targets = [{ pattern = "normal", side = "both" }]\nsets = 1\nreps = 1\nhold_s = 0\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("POSTURE_EXERCISES", str(user))
    lib = load_exercises()
    assert [e.id for e in lib] == ["walk"]
    rx = select_exercises(derive_findings(mset()))
    assert [p.exercise.name for p in rx] == ["Daily walk"]


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("this is [not toml", "not valid TOML"),
        ('[[exercise]]\nid = "x"\nname = "X"\nkind = "yoga"\ntargets = []\n', "kind 'yoga'"),
        ('[[exercise]]\nid = "x"\nname = "X"\nkind = "stretch"\n'
         'targets = [{ pattern = "hip_high", side = "short_side" }]\n', "does not apply"),
        ('[[exercise]]\nid = "x"\nname = "X"\nkind = "stretch"\n'
         'targets = [{ pattern = "scoliosis", side = "both" }]\n', "unknown pattern"),
        ('[[exercise]]\nid = "x"\nkind = "stretch"\ntargets = [{ pattern = "normal", side = "both" }]\n',
         "missing 'name'"),
        ('[[exercise]]\nid = "x"\nname = "X"\nkind = "stretch"\nsets = "three"\n'
         'targets = [{ pattern = "normal", side = "both" }]\n', "'sets' must be"),
        ("title = 'nothing'\n", "no [[exercise]]"),
    ],
)
def test_broken_user_library_gives_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str, needle: str
) -> None:
    bad = tmp_path / "exercises.toml"
    bad.write_text(content, encoding="utf-8")
    monkeypatch.setenv("POSTURE_EXERCISES", str(bad))
    with pytest.raises(ExerciseLibraryError) as info:
        load_exercises()
    msg = str(info.value)
    assert needle in msg and str(bad) in msg
    assert "\n" not in msg


def test_missing_user_library_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTURE_EXERCISES", str(tmp_path / "nope.toml"))
    with pytest.raises(ExerciseLibraryError, match="Cannot read"):
        load_exercises()


def test_xdg_config_copy_is_used_when_present(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POSTURE_EXERCISES", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert len(load_exercises()) >= 10  # nothing there: shipped library
    (tmp_path / "posture").mkdir()
    (tmp_path / "posture" / "exercises.toml").write_text(
        '[[exercise]]\nid = "walk"\nname = "Daily walk"\nkind = "mobility"\n'
        'targets = [{ pattern = "normal", side = "both" }]\n',
        encoding="utf-8",
    )
    assert len(load_exercises()) == 1
