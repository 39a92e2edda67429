"""The exercise library: loading, validating and overriding ``data/exercises.toml``, and choosing
exercises for findings (sides resolved into words such as "left hip").

Exercise library
----------------
``posture/data/exercises.toml`` ships with the package. A therapist's own copy overrides it: the file
named by the environment variable ``POSTURE_EXERCISES``, else ``$XDG_CONFIG_HOME/posture/exercises.toml``
(``~/.config/posture/exercises.toml``) when it exists. Each entry names the finding patterns it serves
and a side rule (a role of the finding, e.g. ``loaded_hip``), resolved into words such as "left hip".
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from posture.errors import PostureError
from posture.findings.rules import PATTERN_ROLES, Finding

ENV_EXERCISES = "POSTURE_EXERCISES"
KINDS = frozenset({"stretch", "strengthening", "nerve_glide", "self_release", "mobility",
                   "motor_control"})
ROLE_NOUN = {
    "short_side": "side",
    "long_side": "side",
    "loaded_hip": "hip",
    "high_hip": "hip",
    "low_hip": "hip",
    "low_shoulder": "shoulder",
    "high_shoulder": "shoulder",
    "shift_side": "leg",
    "head_short_side": "side of the neck",
}


class ExerciseLibraryError(PostureError):
    code = "bad_exercise_library"
    default_hint = (
        f"Fix the file, or remove it (or unset {ENV_EXERCISES}) to use the shipped exercise library."
    )


@dataclass(frozen=True)
class Target:
    pattern: str
    side: str  # a role of the pattern (PATTERN_ROLES) or "both"


@dataclass(frozen=True)
class Exercise:
    id: str
    name: str
    kind: str
    targets: tuple[Target, ...]
    sets: int
    reps: int
    hold_s: int
    how: str
    cues: tuple[str, ...]
    contraindications: tuple[str, ...]
    body_part: str | None = None  # noun for the side words ("leg"); default from the side rule

    @property
    def dose(self) -> str:
        """'3 × 30 s hold', '2 × 10 reps', '3 × 12 reps, 2 s hold'."""
        if self.reps > 1:
            text = f"{self.sets} × {self.reps} reps"
            return f"{text}, {self.hold_s} s hold" if self.hold_s else text
        if self.hold_s:
            return f"{self.sets} × {self.hold_s} s hold"
        return f"{self.sets} × once"


@dataclass(frozen=True)
class Prescription:
    exercise: Exercise
    side: str  # "left", "right" or "both"
    side_words: str  # "left hip", "both sides"
    reasons: tuple[str, ...]  # titles of the findings that called for it

    def to_dict(self) -> dict[str, Any]:
        e = self.exercise
        return {
            "id": e.id, "name": e.name, "kind": e.kind, "side": self.side,
            "side_words": self.side_words, "sets": e.sets, "reps": e.reps, "hold_s": e.hold_s,
            "dose": e.dose, "how": e.how, "cues": list(e.cues),
            "contraindications": list(e.contraindications), "reasons": list(self.reasons),
        }


def shipped_exercises_path() -> Path:
    return Path(str(resources.files("posture") / "data" / "exercises.toml"))


def user_exercises_path() -> Path | None:
    """The therapist's own library, if any: $POSTURE_EXERCISES, else
    $XDG_CONFIG_HOME/posture/exercises.toml (default ~/.config/...) when that file exists."""
    env = os.environ.get(ENV_EXERCISES)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    p = Path(base) / "posture" / "exercises.toml"
    return p if p.is_file() else None


def load_exercises(path: str | Path | None = None) -> tuple[Exercise, ...]:
    """Load and validate an exercise library (``path``, else the user's copy, else the shipped one).

    Raises :class:`ExerciseLibraryError` naming the file and the entry when it is broken."""
    p = Path(path) if path is not None else (user_exercises_path() or shipped_exercises_path())
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ExerciseLibraryError(
            f"Cannot read the exercise library {p}: {exc.strerror or exc}."
        ) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ExerciseLibraryError(
            f"The exercise library {p} is not valid TOML ({' '.join(str(exc).split())})."
        ) from None
    return parse_exercises(data, str(p))


def parse_exercises(data: Mapping[str, Any], source: str = "exercise library") -> tuple[Exercise, ...]:
    entries = data.get("exercise")
    if not isinstance(entries, list) or not entries:
        raise ExerciseLibraryError(f"{source} has no [[exercise]] entries.")
    out: list[Exercise] = []
    seen: set[str] = set()
    for i, e in enumerate(entries, 1):
        where = f"{source}, exercise #{i}"
        if not isinstance(e, dict):
            raise ExerciseLibraryError(f"{where} is not a table.")
        ex_id = _req(e, "id", str, where)
        where = f"{source}, exercise {ex_id!r}"
        if ex_id in seen:
            raise ExerciseLibraryError(f"{where} appears twice.")
        seen.add(ex_id)
        kind = _req(e, "kind", str, where)
        if kind not in KINDS:
            raise ExerciseLibraryError(f"{where}: kind {kind!r} is not one of {sorted(KINDS)}.")
        targets_raw = _req(e, "targets", list, where)
        targets = []
        for t in targets_raw:
            if not isinstance(t, dict):
                raise ExerciseLibraryError(f"{where}: each target must be {{pattern=..., side=...}}.")
            pat = _req(t, "pattern", str, where)
            side = _req(t, "side", str, where)
            if pat not in PATTERN_ROLES:
                raise ExerciseLibraryError(
                    f"{where}: unknown pattern {pat!r} (known: {', '.join(PATTERN_ROLES)})."
                )
            if side != "both" and side not in PATTERN_ROLES[pat]:
                allowed = sorted(PATTERN_ROLES[pat] | {"both"})
                raise ExerciseLibraryError(
                    f"{where}: side {side!r} does not apply to pattern {pat!r} (use one of {allowed})."
                )
            targets.append(Target(pat, side))
        if not targets:
            raise ExerciseLibraryError(f"{where} has no targets.")
        dose = [_req(e, k, int, where, default=d) for k, d in (("sets", 1), ("reps", 1), ("hold_s", 0))]
        if dose[0] < 1 or dose[1] < 1 or dose[2] < 0:
            raise ExerciseLibraryError(f"{where}: sets and reps must be >= 1 and hold_s >= 0.")
        out.append(Exercise(
            id=ex_id,
            name=_req(e, "name", str, where),
            kind=kind,
            targets=tuple(targets),
            sets=dose[0], reps=dose[1], hold_s=dose[2],
            how=_req(e, "how", str, where, default=""),
            cues=tuple(_str_list(e, "cues", where)),
            contraindications=tuple(_str_list(e, "contraindications", where)),
            body_part=_req(e, "body_part", str, where, default=None),
        ))
    return tuple(out)


def _req(e: Mapping[str, Any], key: str, typ: type, where: str, **kw: Any) -> Any:
    if key not in e:
        if "default" in kw:
            return kw["default"]
        raise ExerciseLibraryError(f"{where} is missing {key!r}.")
    v = e[key]
    if not isinstance(v, typ) or (typ is int and isinstance(v, bool)):
        raise ExerciseLibraryError(f"{where}: {key!r} must be a {typ.__name__}, not {v!r}.")
    return v


def _str_list(e: Mapping[str, Any], key: str, where: str) -> list[str]:
    v = e.get(key, [])
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ExerciseLibraryError(f"{where}: {key!r} must be a list of strings.")
    return list(v)


def select_exercises(
    findings: Sequence[Finding], library: Sequence[Exercise] | None = None
) -> list[Prescription]:
    """Exercises for ``findings`` with sides resolved into words ("left hip", "both sides").

    An exercise called for by several findings on the same side is listed once with all reasons;
    called for on both the left and the right it becomes "both sides"."""
    lib = load_exercises() if library is None else library
    # exercise id -> side -> [(role, finding title)]
    picked: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for f in findings:
        for ex in lib:
            for t in ex.targets:
                if t.pattern != f.key:
                    continue
                side = "both" if t.side == "both" else f.sides.get(t.side)
                if side is None:
                    continue
                picked.setdefault(ex.id, {}).setdefault(side, []).append((t.side, f.title))
    by_id = {ex.id: ex for ex in lib}
    out: list[Prescription] = []
    for ex_id, sides in picked.items():
        ex = by_id[ex_id]
        if "both" in sides or ("left" in sides and "right" in sides):
            reasons = [title for rs in sides.values() for _, title in rs]
            out.append(Prescription(ex, "both", "both sides", tuple(dict.fromkeys(reasons))))
            continue
        for side, rs in sides.items():
            noun = ex.body_part or ROLE_NOUN.get(rs[0][0], "side")
            reasons = [title for _, title in rs]
            out.append(Prescription(ex, side, f"{side} {noun}", tuple(dict.fromkeys(reasons))))
    return out
