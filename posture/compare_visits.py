"""Compare visits view by view, and the trend per view and per measurement.

Two visits are compared view by view: the front photo with the front photo, the left side with the
left side (:func:`posture.compare.compare` on each pair), never a front with a back; a view present in
only one visit is named as not compared. The trend over visits is kept per view and per measurement,
and says for each view which sessions lack it (a gap, not a point of the series).

Its place in the layers: beside ``posture.compare`` (whose one rule for a real change it uses); reads
:class:`posture.exam.Visit`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from posture.compare import CompareOptions, Comparison, TrendPoint, compare, trend
from posture.exam import VIEW_ORDER, VIEW_TITLES, Visit
from posture.sides import View

SCHEMA: Final = "posture.visit_comparison/1"


@dataclass(frozen=True)
class VisitComparison:
    """``pairs``: view -> the comparison of that view's two photos (same view on both sides);
    ``only_before`` / ``only_after``: views present in one visit only (not compared)."""

    before: Visit
    after: Visit
    pairs: Mapping[View, Comparison]
    only_before: tuple[View, ...]
    only_after: tuple[View, ...]

    @property
    def notes(self) -> tuple[str, ...]:
        out = [f"{VIEW_TITLES[v]}: only in the earlier visit, not compared." for v in self.only_before]
        out += [f"{VIEW_TITLES[v]}: only in the later visit, not compared." for v in self.only_after]
        if not self.pairs:
            out.append("The two visits share no view: nothing can be compared (a front photo is never "
                       "compared with a back or side photo).")
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "before_date": self.before.date,
            "after_date": self.after.date,
            "views": {v.value: c.to_dict() for v, c in self.pairs.items()},
            "not_compared": {
                "only_before": [v.value for v in self.only_before],
                "only_after": [v.value for v in self.only_after],
            },
            "notes": list(self.notes),
        }

    def summary_lines(self) -> list[str]:
        lines: list[str] = []
        for v, c in self.pairs.items():
            lines.append(f"{VIEW_TITLES[v]}:")
            lines += [f"  {line}" for line in c.summary_lines()]
        return lines + list(self.notes)


def compare_visits(before: Visit, after: Visit, options: CompareOptions | None = None) -> VisitComparison:
    """The two visits compared view by view (same view only)."""
    pairs = {v: compare(before.views[v], after.views[v], options)
             for v in VIEW_ORDER if v in before.views and v in after.views}
    only_b = tuple(v for v in VIEW_ORDER if v in before.views and v not in after.views)
    only_a = tuple(v for v in VIEW_ORDER if v in after.views and v not in before.views)
    return VisitComparison(before, after, pairs, only_b, only_a)


@dataclass(frozen=True)
class ViewTrend:
    """One view's trend: each measurement's series (:class:`~posture.compare.TrendPoint`, oldest
    first) and the sessions (their x) that lack the view."""

    view: View
    series: Mapping[str, list[TrendPoint]]
    missing: tuple[Any, ...]

    @property
    def note(self) -> str:
        if not self.missing:
            return ""
        which = ", ".join(str(x) for x in self.missing)
        return f"{VIEW_TITLES[self.view]}: no photo in the session(s) {which}."

    def to_dict(self) -> dict[str, Any]:
        return {
            "view": self.view.value,
            "series": {n: [{"x": str(p.x), "value": p.value, "uncertainty": p.uncertainty} for p in pts]
                       for n, pts in self.series.items()},
            "missing": [str(x) for x in self.missing],
            "note": self.note,
        }


def trend_by_view(visits: Sequence[Visit | tuple[Any, Visit]]) -> dict[View, ViewTrend]:
    """The trend per view and per measurement over visits (oldest first): ``visits`` holds Visits
    (x = the visit's date, else its index) or (x, Visit) pairs. Every view that any visit has gets a
    :class:`ViewTrend`, with the sessions that lack it in ``missing``."""
    items: list[tuple[Any, Visit]] = []
    for i, item in enumerate(visits):
        if isinstance(item, Visit):
            items.append((item.date or i, item))
        else:
            items.append((item[0], item[1]))
    out: dict[View, ViewTrend] = {}
    for v in VIEW_ORDER:
        have = [(x, vis.views[v]) for x, vis in items if v in vis.views]
        if not have:
            continue
        missing = tuple(x for x, vis in items if v not in vis.views)
        out[v] = ViewTrend(v, trend(have), missing)
    return out
