"""A visit: the whole exam of one session, up to four photos each with its view.

One assessment is a visit: a front (``anterior``), a back (``posterior``) and the two side views
(``left`` = the client's left side toward the camera, ``right``), any of them, each analysed on its
own (one :func:`posture.analysis.analyze` per photo, with its own hand corrections: each view's
:class:`~posture.analysis.Analysis` carries its own manual landmarks), kept together with the
client's height, the date and the therapist's notes, plus the findings that combine views
(:mod:`posture.findings.across`). A single-photo assessment is a visit of one view
(:func:`visit_of`).

``Visit.to_dict()`` is the CLI's JSON (schema ``posture.exam/1``): each view's analysis dict
(``posture.analysis/1``, with its own findings) and the findings across views. Conventions as
everywhere: RGB inside, y down, the CLIENT's sides, side-view values positive toward the client's
front. Its place in the layers: above ``analysis`` and ``findings``; below report, store and cli.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from posture.analysis import Analysis, AnalysisOptions, analyze
from posture.errors import InvalidOptionError, PostureError
from posture.findings import attach_findings
from posture.findings.across import AcrossOptions, CrossViewFinding, derive_across
from posture.imaging import Photo
from posture.pose import PoseModel
from posture.sides import View

SCHEMA: Final = "posture.exam/1"

#: the views of a visit in the order they are shown, printed and stored
VIEW_ORDER: Final = (View.ANTERIOR, View.POSTERIOR, View.LEFT, View.RIGHT)

VIEW_TITLES: Final[Mapping[View, str]] = {
    View.ANTERIOR: "Front (anterior)",
    View.POSTERIOR: "Back (posterior)",
    View.LEFT: "Left side (client's left toward the camera)",
    View.RIGHT: "Right side (client's right toward the camera)",
}


def is_side(view: View) -> bool:
    return view in (View.LEFT, View.RIGHT)


@dataclass(frozen=True)
class Visit:
    """Up to four photos of one session, each with its view (``views``: view -> its analysis, in
    :data:`VIEW_ORDER`), the client's height (cm, as given to every analysis), the date (ISO text)
    and notes; ``across`` = the findings across views. Build it with :func:`build_visit` (which
    derives ``across``) or :func:`analyze_visit`."""

    views: Mapping[View, Analysis]
    height_cm: float | None = None
    date: str | None = None
    notes: str = ""
    across: tuple[CrossViewFinding, ...] = ()
    # views whose findings the photo check holds back (left out of the findings across views)
    held: tuple[View, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.views:
            raise InvalidOptionError("A visit needs at least one photo.", "Give a front, back or side photo.")
        for v, a in self.views.items():
            if a.view is not v:
                raise InvalidOptionError(
                    f"The {v.value} photo of the visit was analysed as {a.view.value}.",
                    "Analyse each photo with its own view.",
                )
        ordered = {v: self.views[v] for v in VIEW_ORDER if v in self.views}
        object.__setattr__(self, "views", ordered)

    @property
    def view_names(self) -> tuple[str, ...]:
        return tuple(v.value for v in self.views)

    def get(self, view: View | str) -> Analysis | None:
        return self.views.get(View.parse(view))

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "date": self.date,
            "height_cm": self.height_cm,
            "notes": self.notes,
            "views": {v.value: a.to_dict() for v, a in self.views.items()},
            "findings_across": [f.to_dict() for f in self.across],
            "views_held": [v.value for v in self.held],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], options: AcrossOptions | None = None) -> Visit:
        """The visit back from :meth:`to_dict` (e.g. from the store). Each view comes back through
        :meth:`Analysis.from_dict` (what that cannot restore, this cannot either); the findings (each
        view's and across views) are derived again from the stored measurements. A wrong schema is
        a PostureError."""
        if d.get("schema") != SCHEMA:
            raise PostureError(f"Stored visit has schema {d.get('schema')!r}, expected {SCHEMA!r}.")
        views = {View.parse(k): Analysis.from_dict(a) for k, a in (d.get("views") or {}).items()}
        h = d.get("height_cm")
        return build_visit(views, height_cm=None if h is None else float(h), date=d.get("date"),
                           notes=str(d.get("notes") or ""), options=options)


def side_used(analysis: Analysis) -> dict[str, str]:
    """For a side view: measurement name -> the client's side it was taken from ('' unavailable)."""
    sv = analysis.method.get("side_view") if analysis.method else None
    used = sv.get("sides_used") if isinstance(sv, Mapping) else None
    return {str(k): str(s) for k, s in used.items()} if isinstance(used, Mapping) else {}


def build_visit(
    analyses: Mapping[View, Analysis] | Mapping[str, Analysis],
    height_cm: float | None = None,
    date: str | None = None,
    notes: str = "",
    options: AcrossOptions | None = None,
) -> Visit:
    """A visit from analyses already made (one per view): each front/back view gets its own
    findings (:func:`posture.findings.attach_findings`, held back by its photo check as for a single
    photo; a side view has no single-photo findings: its patterns are read across views), then the
    findings across views over the views whose findings are not held."""
    views: dict[View, Analysis] = {}
    for k, a in analyses.items():
        v = View.parse(k)
        views[v] = replace(a, findings=()) if is_side(v) else attach_findings(a)
    held = tuple(v for v in VIEW_ORDER if v in views and _held(views[v]))
    usable = {v.value: a.measurements for v, a in views.items() if v not in held}
    used = {v.value: side_used(a) for v, a in views.items() if is_side(v)}
    across = derive_across(usable, used, options) if usable else ()
    return Visit(views, height_cm, date, notes, across, held)


def _held(a: Analysis) -> bool:
    return a.capture is not None and a.capture.holds_findings


def visit_of(analysis: Analysis, date: str | None = None, notes: str = "") -> Visit:
    """A single-photo assessment as a visit of one view."""
    stature = analysis.scale.get("stature_cm") if analysis.scale else None
    return build_visit({analysis.view: analysis}, None if stature is None else float(stature), date, notes)


def analyze_visit(
    photos: Mapping[View, Photo] | Mapping[str, Photo],
    options: AnalysisOptions | None = None,
    date: str | None = None,
    notes: str = "",
    model: PoseModel | None = None,
    across: AcrossOptions | None = None,
) -> Visit:
    """Analyse each photo of a visit with its own view (one :func:`analyze` per photo, the same
    options: height, level, confirmation), then :func:`build_visit`. A PostureError of one photo
    names its view."""
    opts = options or AnalysisOptions()
    if not photos:
        raise InvalidOptionError("A visit needs at least one photo.", "Give a front, back or side photo.")
    out: dict[View, Analysis] = {}
    for k, photo in photos.items():
        v = View.parse(k)
        try:
            out[v] = analyze(photo, view=v, options=opts, model=model)
        except PostureError as exc:
            exc.message = f"{VIEW_TITLES[v]} photo: {exc.message}"
            raise
    return build_visit(out, opts.stature_cm, date, notes, across)
