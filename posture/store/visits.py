"""Visits in the store: a session of a client with its photos, one per view (``posture.exam.Visit``).

    from posture.store.visits import save_visit, list_visits, load_visit, delete_visit
    vid = save_visit(store, client_id, visit, {"anterior": photo_a, "left": photo_b})
    for rec in list_visits(store, client_id): ...            # newest last; old assessments included
    visit, photos = load_visit(store, vid)                   # Visit.from_dict + each view's photo RGB
    delete_visit(store, vid)                                  # no byte left: VACUUM as a client erase

A visit is a ``visits`` row plus one assessment (with its photo row) per view, written in ONE
transaction; consent is checked as for an assessment. An assessment saved without a visit (before
visits existed, or one photo) lists and loads as a visit of one view (its ``VisitRecord.id`` is None
and ``assessment_ids`` holds its one id). Functions over a :class:`~posture.store.repository.Store`
(its transaction and its VACUUM after a delete); the store never imports the CLI.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from posture import text as typed
from posture.store.engine import NotFoundError, StoreError
from posture.store.models import Assessment
from posture.store.models import Visit as VisitRow
from posture.store.repository import Store, _aware

if TYPE_CHECKING:
    from posture.exam import Visit

__all__ = ["VisitRecord", "delete_visit", "list_visits", "load_visit", "save_visit"]


@dataclass(frozen=True)
class VisitRecord:
    """One stored visit (without photos). ``id`` None: a single assessment saved without a visit."""

    id: int | None
    client_id: int
    taken_at: dt.date
    views: tuple[str, ...]
    assessment_ids: Mapping[str, int]  # view -> assessment id
    height_cm: float | None
    notes: str
    findings_across: Sequence[Any]
    created_at: dt.datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "client_id": self.client_id, "taken_at": self.taken_at.isoformat(),
            "views": list(self.views), "assessment_ids": dict(self.assessment_ids),
            "height_cm": self.height_cm, "notes": self.notes,
            "findings_across": list(self.findings_across),
            "created_at": self.created_at.isoformat() if self.created_at else None,
        }


def save_visit(
    store: Store,
    client_id: int,
    visit: Visit,
    photos: Mapping[Any, Any],
    taken_at: dt.date | None = None,
) -> int:
    """Store a visit with one photo per view (``photos``: view -> Photo or RGB array, every view of
    the visit); returns the visit id. All in one transaction: the visit row, then each view as an
    assessment with its photo (:meth:`Store.save_assessment`: metadata dropped, consent checked)."""
    from posture.sides import View

    given = {View.parse(k): p for k, p in photos.items()}
    missing = [v.value for v in visit.views if v not in given]
    if missing:
        raise StoreError(f"Not saved: no photo for the {', '.join(missing)} view of the visit.",
                         "Give each view's photo.")
    when = taken_at or (dt.date.fromisoformat(visit.date) if visit.date else dt.date.today())
    across = [f.to_dict() for f in visit.across]
    with store._tx() as s:
        if not store._client(s, client_id).consent_given:
            from posture.store.engine import ConsentError

            raise ConsentError(f"Not saved: client #{client_id} has no recorded consent to storing "
                               "their photos and measurements.")
        row = VisitRow(client_id=client_id, taken_at=when, height_cm=visit.height_cm,
                       notes=typed.notes(visit.notes), findings_across=across)
        s.add(row)
        s.flush()
        for v, analysis in visit.views.items():
            aid = store.save_assessment(client_id, given[v], analysis, taken_at=when)
            s.get_one(Assessment, aid).visit_id = row.id
        s.flush()
        return int(row.id)


def list_visits(store: Store, client_id: int) -> list[VisitRecord]:
    """A client's visits, oldest first (by date, then as saved); each assessment saved without a
    visit is listed as a visit of one view."""
    with store._tx() as s:
        store._client(s, client_id)
        out: list[tuple[dt.date, int, VisitRecord]] = []
        for r in s.scalars(select(VisitRow).where(VisitRow.client_id == client_id)):
            ids = {a.view: a.id for a in r.assessments}
            out.append((r.taken_at, min(ids.values(), default=0), VisitRecord(
                r.id, client_id, r.taken_at, _ordered(ids), ids, r.height_cm, r.notes or "",
                list(r.findings_across or []), _aware(r.created_at))))
        lone = select(Assessment).where(Assessment.client_id == client_id, Assessment.visit_id.is_(None))
        for a in s.scalars(lone):
            out.append((a.taken_at, a.id, VisitRecord(
                None, client_id, a.taken_at, (a.view,), {a.view: a.id}, a.height_cm, a.notes or "",
                [], _aware(a.created_at))))
    out.sort(key=lambda t: (t[0], t[1]))
    return [r for _d, _i, r in out]


def _ordered(ids: Mapping[str, int]) -> tuple[str, ...]:
    order = ("anterior", "posterior", "left", "right")
    return tuple(v for v in order if v in ids) + tuple(v for v in ids if v not in order)


def load_visit(store: Store, visit_id: int) -> tuple[Visit, dict[str, Any]]:
    """The visit back (:meth:`posture.exam.Visit.from_dict`: each view's stored analysis, the
    findings derived again) with each view's photo (a :class:`posture.imaging.Photo`)."""
    from posture.exam import SCHEMA, Visit

    with store._tx() as s:
        row = s.get(VisitRow, visit_id)
        if row is None:
            raise NotFoundError(f"No visit with id {visit_id}.")
        views = {a.view: (a.id, a.analysis) for a in row.assessments}
        d = {"schema": SCHEMA, "date": row.taken_at.isoformat(), "height_cm": row.height_cm,
             "notes": row.notes or "", "views": {v: an for v, (_i, an) in views.items()}}
    visit = Visit.from_dict(d)
    photos = {v: store.get_photo(i) for v, (i, _an) in views.items()}
    return visit, photos


def delete_visit(store: Store, visit_id: int) -> None:
    """Erase the visit, its assessments and every photo byte of theirs (as a client erase does: the
    file is VACUUMed after the commit, ``secure_delete`` zeroes the freed pages; PostgreSQL VACUUM
    FULL). The client and their other visits stay."""
    with store._tx() as s:
        row = s.get(VisitRow, visit_id)
        if row is None:
            raise NotFoundError(f"No visit with id {visit_id}.")
        s.delete(row)
        store._vacuum_after(s)
