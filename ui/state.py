"""Session-state helpers of the assessment page, written without Streamlit so they can be tested alone.

Everything here works on a plain ``MutableMapping`` (``st.session_state`` in the app, a dict in the
tests). Photos and analyses only live in the visitor's own session, never in a process-wide cache:
they are health data.

Layout of the state:

* ``ANALYSES``: ``{(sha256, view, stature_cm): (Photo, Analysis)}`` - the model passes already run in
  this session, at most :data:`MAX_CACHED_ANALYSES` entries (oldest dropped first).
* ``CORRECTIONS``: ``{sha256: {view: {landmark_name: (x, y)}}}`` - hand-placed landmarks in pixels of
  the full-size oriented photo (y down), per photo and per declared view (a view change swaps the
  client's sides, so corrections made under one view do not carry over to the other).
* ``LAST_CLICK``: ``{component_key: unix_time}`` - the last click already applied, so that a rerun
  does not apply a stale click to a newly chosen landmark.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

ANALYSES = "posture_analyses"
CORRECTIONS = "posture_corrections"
LAST_CLICK = "posture_last_click"

# A session re-analyses at most this many photo/view/height combinations without a model pass.
# Small on purpose: each entry holds a decoded photo (up to 2048 px, ~12 MB).
MAX_CACHED_ANALYSES = 4


@dataclass(frozen=True)
class CorrectableLandmark:
    """A landmark the therapist may move by hand: anatomical name and its label in plain words."""

    name: str
    label: str


# The points the measurements are built from (see posture.metrics.SPECS), client's sides.
CORRECTABLE: tuple[CorrectableLandmark, ...] = tuple(
    CorrectableLandmark(f"{side}_{part}", f"{side.capitalize()} {word} (client's)")
    for part, word in (
        ("shoulder", "shoulder"),
        ("hip", "hip joint"),
        ("ear", "ear"),
        ("eye", "eye"),
        ("ankle", "ankle"),
        ("heel", "heel"),
    )
    for side in ("right", "left")
)
LABEL_OF = {c.name: c.label for c in CORRECTABLE}


def analysis_key(sha256: str, view: str, stature_cm: float | None) -> tuple[str, str, float | None]:
    return (sha256, view, None if stature_cm is None else round(float(stature_cm), 1))


def cached_analysis(state: MutableMapping[str, Any], key: tuple[str, str, float | None]) -> Any:
    """The cached ``(photo, analysis)`` for ``key`` or None."""
    return state.get(ANALYSES, {}).get(key)


def store_analysis(state: MutableMapping[str, Any], key: tuple[str, str, float | None], value: Any) -> None:
    cache: dict[Any, Any] = dict(state.get(ANALYSES, {}))
    cache.pop(key, None)
    cache[key] = value
    while len(cache) > MAX_CACHED_ANALYSES:
        cache.pop(next(iter(cache)))
    state[ANALYSES] = cache


def corrections_for(state: Mapping[str, Any], sha256: str, view: str) -> dict[str, tuple[float, float]]:
    """The hand-placed landmarks of this photo under this view (a copy)."""
    return dict(state.get(CORRECTIONS, {}).get(sha256, {}).get(view, {}))


def set_correction(
    state: MutableMapping[str, Any], sha256: str, view: str, name: str, xy: tuple[float, float]
) -> None:
    if name not in LABEL_OF:
        raise KeyError(f"unknown landmark {name!r}")
    allc: dict[str, dict[str, dict[str, tuple[float, float]]]] = {
        s: {v: dict(p) for v, p in views.items()} for s, views in state.get(CORRECTIONS, {}).items()
    }
    allc.setdefault(sha256, {}).setdefault(view, {})[name] = (float(xy[0]), float(xy[1]))
    state[CORRECTIONS] = allc


def reset_corrections(state: MutableMapping[str, Any], sha256: str) -> None:
    allc = dict(state.get(CORRECTIONS, {}))
    allc.pop(sha256, None)
    state[CORRECTIONS] = allc


def click_to_full(
    click: Mapping[str, Any], full_width: int, full_height: int
) -> tuple[float, float] | None:
    """A click of ``streamlit_image_coordinates`` (x, y in displayed-image pixels, plus the displayed
    width/height) -> pixels of the full-size photo. None when the click is unusable."""
    try:
        x, y = float(click["x"]), float(click["y"])
        shown_w, shown_h = float(click["width"]), float(click["height"])
    except (KeyError, TypeError, ValueError):
        return None
    if shown_w <= 0 or shown_h <= 0:
        return None
    fx = x * full_width / shown_w
    # the displayed image keeps the photo's aspect ratio; use each axis's own factor anyway
    fy = y * full_height / shown_h
    if not (0.0 <= fx <= full_width and 0.0 <= fy <= full_height):
        return None
    return fx, fy


def apply_click(
    state: MutableMapping[str, Any],
    component_key: str,
    click: Mapping[str, Any] | None,
    *,
    sha256: str,
    view: str,
    landmark: str,
    full_width: int,
    full_height: int,
) -> bool:
    """Record a new click as the position of ``landmark``. Returns True when something changed.

    A click already applied (same ``unix_time``) is ignored, so reruns are harmless."""
    if not click:
        return False
    stamp = click.get("unix_time")
    seen: dict[str, Any] = dict(state.get(LAST_CLICK, {}))
    if stamp is not None and seen.get(component_key) == stamp:
        return False
    seen[component_key] = stamp
    state[LAST_CLICK] = seen
    xy = click_to_full(click, full_width, full_height)
    if xy is None:
        return False
    set_correction(state, sha256, view, landmark, xy)
    return True
