"""Session-state helpers of the assessment page, written without Streamlit so they can be tested alone.

Everything here works on a plain ``MutableMapping`` (``st.session_state`` in the app, a dict in the
tests). Photos and analyses only live in the visitor's own session, never in a process-wide cache:
they are health data.

Layout of the state:

* ``ANALYSES``: ``{(sha256, view, stature_cm, person): (Photo, Analysis)}`` - the model passes
  already run in this session, at most :data:`MAX_CACHED_ANALYSES` entries (oldest dropped first).
* ``CORRECTIONS``: ``{sha256: {view: {landmark_name: (x, y)}}}`` - hand-placed landmarks in pixels of
  the full-size oriented photo (y down), per photo and per declared view (a view change swaps the
  client's sides, so corrections made under one view do not carry over to the other).
* ``LAST_CLICK``: ``{component_key: unix_time}`` - the last click already applied, so that a rerun
  does not apply a stale click to a newly chosen landmark.
* ``PRECISION``: ``{sha256: {view: {landmark_name: photo px per display px}}}`` - how finely each
  hand-placed point was placed (the whole photo, the zoom, or a one-pixel nudge), for its ±.
* ``PERSON``: ``{sha256: index}`` - the client picked among several people in a photo (left to right).
* ``KEPT_PHOTO``: ``(bytes, source label)`` - the photo being assessed, kept when the therapist goes
  to another page (Streamlit forgets a file uploader's file when its page is left) or opened from a
  saved assessment (:func:`open_saved`).
* ``KEPT_WIDGETS``: ``{widget key: value}`` - the New-assessment page's inputs (view, height, notes,
  ...), restored when the page is drawn again (Streamlit drops a widget's state on a page that is
  not drawn): :func:`remember_widgets` / :func:`restore_widgets`.

Every key is namespaced ``posture_*`` and never reset by the pages themselves: leaving the New
assessment page for Clients and coming back finds the photo, the height and the unsaved corrections.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

ANALYSES = "posture_analyses"
CORRECTIONS = "posture_corrections"
LAST_CLICK = "posture_last_click"
PRECISION = "posture_precision"
PERSON = "posture_person"
KEPT_PHOTO = "posture_kept_photo"
KEPT_WIDGETS = "posture_kept_widgets"
SAVED_SOURCE = "saved assessment"  # KEPT_PHOTO's source when reopened from the Clients page
# The New-assessment page's widgets whose values survive a visit to another page (a file uploader
# or a camera cannot be set back: the photo itself is KEPT_PHOTO).
KEPT_WIDGET_KEYS = ("source", "sample", "view", "height", "landmark_choice", "report_client",
                    "report_blur", "save_mode", "save_new_name", "save_notes", "save_date")

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


AnalysisKey = tuple[str, str, float | None, int | None]


def analysis_key(
    sha256: str, view: str, stature_cm: float | None, person: int | None = None
) -> AnalysisKey:
    """(photo, view, height, the person picked among several: None = the app's own choice)."""
    return (sha256, view, None if stature_cm is None else round(float(stature_cm), 1), person)


def cached_analysis(state: MutableMapping[str, Any], key: AnalysisKey) -> Any:
    """The cached ``(photo, analysis)`` for ``key`` or None."""
    return state.get(ANALYSES, {}).get(key)


def store_analysis(state: MutableMapping[str, Any], key: AnalysisKey, value: Any) -> None:
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
    state: MutableMapping[str, Any], sha256: str, view: str, name: str, xy: tuple[float, float],
    precision: float | None = None,
) -> None:
    """Place ``name`` at ``xy`` (full-size pixels); ``precision``: photo pixels per display pixel
    where it was placed (None: unknown, the analysis's default)."""
    if name not in LABEL_OF:
        raise KeyError(f"unknown landmark {name!r}")
    allc: dict[str, dict[str, dict[str, tuple[float, float]]]] = {
        s: {v: dict(p) for v, p in views.items()} for s, views in state.get(CORRECTIONS, {}).items()
    }
    allc.setdefault(sha256, {}).setdefault(view, {})[name] = (float(xy[0]), float(xy[1]))
    state[CORRECTIONS] = allc
    prec: dict[str, dict[str, dict[str, float]]] = {
        s: {v: dict(p) for v, p in views.items()} for s, views in state.get(PRECISION, {}).items()
    }
    per_point = prec.setdefault(sha256, {}).setdefault(view, {})
    if precision is None:
        per_point.pop(name, None)
    else:
        per_point[name] = float(precision)
    state[PRECISION] = prec


def precision_for(state: Mapping[str, Any], sha256: str, view: str) -> float | None:
    """Photo pixels per display pixel for this photo's hand-placed points: the COARSEST of them
    (one figure for all points, on the safe side); None when none was recorded."""
    known = state.get(PRECISION, {}).get(sha256, {}).get(view, {})
    placed = corrections_for(state, sha256, view)
    values = [float(v) for k, v in known.items() if k in placed]
    return max(values) if values and len(values) == len(placed) else None


def chosen_person(state: Mapping[str, Any], sha256: str) -> int | None:
    """The person picked in this photo (index left to right), or None."""
    value = state.get(PERSON, {}).get(sha256)
    return value if isinstance(value, int) else None


def choose_person(state: MutableMapping[str, Any], sha256: str, index: int | None) -> None:
    people = dict(state.get(PERSON, {}))
    if index is None:
        people.pop(sha256, None)
    else:
        people[sha256] = int(index)
    state[PERSON] = people


def reset_corrections(state: MutableMapping[str, Any], sha256: str) -> None:
    allc = dict(state.get(CORRECTIONS, {}))
    allc.pop(sha256, None)
    state[CORRECTIONS] = allc
    prec = dict(state.get(PRECISION, {}))
    prec.pop(sha256, None)
    state[PRECISION] = prec


Window = tuple[float, float, float, float]  # (x0, y0, x1, y1) of the photo shown, full-size px


def click_precision(click: Mapping[str, Any] | None, full_width: int, window: Window | None = None
                    ) -> float | None:
    """Photo pixels per display pixel of a click (the shown width against what it showed)."""
    try:
        shown_w = float((click or {})["width"])
    except (KeyError, TypeError, ValueError):
        return None
    span = full_width if window is None else window[2] - window[0]
    return span / shown_w if shown_w > 0 else None


def click_to_full(
    click: Mapping[str, Any], full_width: int, full_height: int, window: Window | None = None
) -> tuple[float, float] | None:
    """A click of ``streamlit_image_coordinates`` (x, y in displayed-image pixels, plus the displayed
    width/height) -> pixels of the full-size photo. ``window``: the part of the photo that was shown
    (a zoom), default the whole photo. None when the click is unusable."""
    try:
        x, y = float(click["x"]), float(click["y"])
        shown_w, shown_h = float(click["width"]), float(click["height"])
    except (KeyError, TypeError, ValueError):
        return None
    if shown_w <= 0 or shown_h <= 0:
        return None
    x0, y0, x1, y1 = window or (0.0, 0.0, float(full_width), float(full_height))
    fx = x0 + x * (x1 - x0) / shown_w
    # the displayed image keeps the photo's aspect ratio; use each axis's own factor anyway
    fy = y0 + y * (y1 - y0) / shown_h
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
    window: Window | None = None,
) -> bool:
    """Record a new click as the position of ``landmark`` (``window``: the part of the photo shown,
    see :func:`click_to_full`). Returns True when something changed.

    A click already applied (same ``unix_time``) is ignored, so reruns are harmless."""
    if not click:
        return False
    stamp = click.get("unix_time")
    seen: dict[str, Any] = dict(state.get(LAST_CLICK, {}))
    if stamp is not None and seen.get(component_key) == stamp:
        return False
    seen[component_key] = stamp
    state[LAST_CLICK] = seen
    xy = click_to_full(click, full_width, full_height, window)
    if xy is None:
        return False
    set_correction(state, sha256, view, landmark, xy, click_precision(click, full_width, window))
    return True


# -- state kept across pages -----------------------------------------------------------------------


def keep_photo(state: MutableMapping[str, Any], data: bytes | None, source: str = "") -> None:
    """Remember the photo being assessed (None: forget it, e.g. the upload was removed)."""
    if data is None:
        state.pop(KEPT_PHOTO, None)
    else:
        state[KEPT_PHOTO] = (bytes(data), source)


def kept_photo(state: Mapping[str, Any]) -> tuple[bytes, str] | None:
    """The photo kept from an earlier visit of the page (bytes, where it came from), or None."""
    value = state.get(KEPT_PHOTO)
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], bytes):
        return value[0], str(value[1])
    return None


def remember_widgets(state: MutableMapping[str, Any], keys: tuple[str, ...] = KEPT_WIDGET_KEYS) -> None:
    """Copy the current values of the page's widgets into ``KEPT_WIDGETS``."""
    kept = dict(state.get(KEPT_WIDGETS, {}))
    for k in keys:
        if k in state:
            kept[k] = state[k]
    state[KEPT_WIDGETS] = kept


def restore_widgets(state: MutableMapping[str, Any], keys: tuple[str, ...] = KEPT_WIDGET_KEYS) -> None:
    """Before the page draws its widgets: give back the remembered value of each widget whose state
    Streamlit dropped while another page was shown."""
    kept = state.get(KEPT_WIDGETS, {})
    for k in keys:
        if k not in state and k in kept:
            state[k] = kept[k]


def open_saved(
    state: MutableMapping[str, Any], photo_bytes: bytes, analysis: Mapping[str, Any],
    source: str = SAVED_SOURCE,
) -> str:
    """Put a saved assessment on the New-assessment page: its stored photo, its view and height,
    and its hand-placed landmarks (the analysis dict's ``"manual": true`` entries, full-size pixels
    of the ORIGINAL photo, rescaled to the stored copy). Returns the stored photo's sha256 (the
    key the page's corrections are kept under)."""
    import hashlib
    import io

    from PIL import Image

    sha = hashlib.sha256(photo_bytes).hexdigest()
    with Image.open(io.BytesIO(photo_bytes)) as im:
        stored_w = im.width
    original_w = float((analysis.get("image") or {}).get("width") or stored_w)
    f = stored_w / original_w if original_w > 0 else 1.0
    view = str(analysis.get("view") or "anterior")
    reset_corrections(state, sha)
    for name, entry in (analysis.get("landmarks") or {}).items():
        if isinstance(entry, Mapping) and entry.get("manual") and name in LABEL_OF:
            set_correction(state, sha, view, name, (float(entry["x"]) * f, float(entry["y"]) * f))
    keep_photo(state, photo_bytes, source)
    stature = (analysis.get("scale") or {}).get("stature_cm")
    kept = dict(state.get(KEPT_WIDGETS, {}))
    kept.update({"view": view, "height": None if stature is None else float(stature)})
    state[KEPT_WIDGETS] = kept
    for k in ("view", "height"):
        state.pop(k, None)  # restore_widgets sets them from KEPT_WIDGETS on the page
    return sha
