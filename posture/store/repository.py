"""The repository API the CLI and the app call: :func:`open_store` -> :class:`Store`.

Where the data lives, the SQLite settings and the PostgreSQL notes: :mod:`posture.store.engine`.
The client export zip: :mod:`posture.store.export`.

Atomicity
    Every method is one transaction; inside :meth:`Store.transaction` the methods called join ONE
    transaction instead (a failure anywhere undoes all of them). An assessment and its photo row are
    written together: a save lands whole or not at all. :meth:`Store.save_for_client` creates a new
    client, records the consent and saves the assessment in one transaction.
    Deleting a client erases every assessment and photo (cascade), then runs ``VACUUM`` and a
    WAL checkpoint on SQLite so the bytes leave the file too.

Consent
    :meth:`Store.save_assessment` refuses (:class:`~posture.store.engine.ConsentError`) a client
    whose consent to storing their photo and measurements is not recorded: the rule lives here,
    not only in the app.

PostgreSQL
    Photos are ``bytea`` (no large objects, so a cascade delete removes them). After a delete,
    ``VACUUM FULL`` rewrites the tables (``StoreOptions.pg_vacuum_full_on_delete``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image
from sqlalchemy import Engine, func, or_, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from posture import text as typed
from posture.errors import PostureError
from posture.store.engine import (
    BackupProgress,
    ConsentError,
    NotFoundError,
    StoreError,
    StoreOptions,
    backup_sqlite,
    default_url,
    make_engine,
    migrate,
    vacuum,
)
from posture.store.export import client_zip
from posture.store.models import Assessment, Client, Photo

if TYPE_CHECKING:
    from posture.analysis import Analysis

# -- photo encoding -------------------------------------------------------------------------------


def encode_photo(rgb: np.ndarray, options: StoreOptions | None = None) -> tuple[bytes, str]:
    """Re-encode an RGB uint8 array with Pillow, writing NO metadata (no EXIF, GPS, ICC, XMP).

    Returns (bytes, mime type). Re-encoding from pixels (not copying the upload) is what guarantees
    that nothing from the original file survives."""
    opts = options or StoreOptions()
    im = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB")
    buf = io.BytesIO()
    if opts.photo_format.upper() == "PNG":
        im.save(buf, format="PNG", optimize=False)
        return buf.getvalue(), "image/png"
    im.save(buf, format="JPEG", quality=opts.jpeg_quality, optimize=True)
    return buf.getvalue(), "image/jpeg"


# -- records handed to callers --------------------------------------------------------------------


@dataclass(frozen=True)
class ClientRecord:
    id: int
    name: str
    date_of_birth: dt.date | None
    notes: str
    consent_given: bool
    consent_at: dt.datetime | None
    created_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "date_of_birth": self.date_of_birth.isoformat() if self.date_of_birth else None,
            "notes": self.notes,
            "consent_given": self.consent_given,
            "consent_at": self.consent_at.isoformat() if self.consent_at else None,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class AssessmentRecord:
    """One stored assessment (without the photo bytes: see :meth:`Store.get_photo_bytes`)."""

    id: int
    client_id: int
    taken_at: dt.date
    view: str
    height_cm: float | None
    landmarks: Mapping[str, Any]
    measurements: Mapping[str, Any]
    findings: Sequence[Any]
    analysis: Mapping[str, Any]  # the full Analysis.to_dict()
    notes: str
    created_at: dt.datetime
    photo_mime: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "client_id": self.client_id,
            "taken_at": self.taken_at.isoformat(),
            "view": self.view,
            "height_cm": self.height_cm,
            "landmarks": dict(self.landmarks),
            "measurements": dict(self.measurements),
            "findings": list(self.findings),
            "analysis": dict(self.analysis),
            "notes": self.notes,
            "created_at": self.created_at.isoformat(),
            "photo_mime": self.photo_mime,
        }

    def to_analysis(self) -> Analysis:
        """The stored analysis as a :class:`posture.analysis.Analysis` (see
        :meth:`posture.analysis.Analysis.from_dict`)."""
        return analysis_from_dict(self.analysis)


def _aware(t: dt.datetime | None) -> dt.datetime | None:
    """SQLite returns naive datetimes; everything is stored in UTC."""
    if t is None or t.tzinfo is not None:
        return t
    return t.replace(tzinfo=dt.UTC)


def _client_record(c: Client) -> ClientRecord:
    created = _aware(c.created_at)
    assert created is not None
    return ClientRecord(
        c.id, c.name, c.date_of_birth, c.notes or "", bool(c.consent_given), _aware(c.consent_at), created
    )


def _assessment_record(a: Assessment, photo_mime: str | None) -> AssessmentRecord:
    created = _aware(a.created_at)
    assert created is not None
    return AssessmentRecord(
        id=a.id,
        client_id=a.client_id,
        taken_at=a.taken_at,
        view=a.view,
        height_cm=a.height_cm,
        landmarks=a.landmarks,
        measurements=a.measurements,
        findings=a.findings,
        analysis=a.analysis,
        notes=a.notes or "",
        created_at=created,
        photo_mime=photo_mime,
    )


def _client_name(name: str | None) -> str:
    """The name as stored: cleaned by :func:`posture.text.client_name` (no control or bidi
    characters, at most ``CLIENT_NAME_MAX`` characters, refused when longer), not empty, and within
    the column's length (PostgreSQL would refuse a longer one with a database error)."""
    text = typed.client_name(name)
    if not text:
        raise StoreError("A client needs a name or a code.", "Enter a name or a pseudonymous code.")
    limit = int(getattr(Client.__table__.c.name.type, "length", None) or len(text))
    if len(text) > limit:
        raise StoreError(f"A client's name or code can be at most {limit} characters "
                         f"(this one has {len(text)}).", "Shorten it, or use a pseudonymous code.")
    return text


# -- the store ------------------------------------------------------------------------------------


class Store:
    """Clients, assessments and photos. Every method is one transaction (or joins the one opened
    by :meth:`transaction` in the same thread).

    Create with :func:`open_store` (which migrates the schema); close with :meth:`close` or use it as
    a context manager."""

    def __init__(self, engine: Engine, options: StoreOptions | None = None) -> None:
        self.engine = engine
        self.options = options or StoreOptions()
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        # the open transaction of this thread (Streamlit runs each session in its own thread and
        # every session shares one Store)
        self._local = threading.local()

    # context management
    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.engine.dispose()

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        current: Session | None = getattr(self._local, "session", None)
        if current is not None:  # inside transaction(): join it
            yield current
            return
        with self._sessions() as s, s.begin():
            self._local.session = s
            self._local.vacuum_pending = False
            try:
                yield s
            finally:
                self._local.session = None
        if getattr(self._local, "vacuum_pending", False):
            self._local.vacuum_pending = False
            vacuum(self.engine, self.options)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Every store call made inside joins ONE transaction: committed when the block ends, rolled
        back entirely when it raises. A delete's VACUUM runs after the commit."""
        with self._tx():
            yield

    # clients
    def create_client(
        self,
        name: str,
        date_of_birth: dt.date | None = None,
        notes: str = "",
        consent_given: bool = False,
        consent_at: dt.datetime | None = None,
    ) -> int:
        name = _client_name(name)
        if consent_given and consent_at is None:
            consent_at = dt.datetime.now(dt.UTC)
        with self._tx() as s:
            c = Client(
                name=name,
                date_of_birth=date_of_birth,
                notes=typed.notes(notes),
                consent_given=consent_given,
                consent_at=consent_at,
            )
            s.add(c)
            s.flush()
            return c.id

    def update_client(
        self,
        client_id: int,
        *,
        name: str | None = None,
        date_of_birth: dt.date | None = None,
        notes: str | None = None,
    ) -> ClientRecord:
        with self._tx() as s:
            c = self._client(s, client_id)
            if name is not None:
                c.name = _client_name(name)
            if date_of_birth is not None:
                c.date_of_birth = date_of_birth
            if notes is not None:
                c.notes = typed.notes(notes)
            return _client_record(c)

    def record_consent(
        self, client_id: int, given: bool = True, at: dt.datetime | None = None
    ) -> ClientRecord:
        """Record (or withdraw) the client's consent to store photos; stamps the time."""
        with self._tx() as s:
            c = self._client(s, client_id)
            c.consent_given = given
            c.consent_at = (at or dt.datetime.now(dt.UTC)) if given else None
            return _client_record(c)

    def get_client(self, client_id: int) -> ClientRecord:
        with self._tx() as s:
            return _client_record(self._client(s, client_id))

    def find_clients(self, query: str = "") -> list[ClientRecord]:
        """Clients whose name or code contains ``query`` (case-insensitive), or whose id equals it;
        all clients for an empty query. Ordered by name."""
        q = (query or "").strip()
        with self._tx() as s:
            stmt = select(Client).order_by(func.lower(Client.name), Client.id)
            if q:
                like = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                cond = func.lower(Client.name).like(like, escape="\\")
                stmt = stmt.where(or_(cond, Client.id == int(q)) if q.isdigit() else cond)
            return [_client_record(c) for c in s.scalars(stmt)]

    def resolve_client(self, ref: str | int) -> ClientRecord:
        """A client by id or by exact name (case-insensitive); an ambiguous name is an error."""
        text = str(ref).strip()
        with self._tx() as s:
            if text.isdigit():
                c = s.get(Client, int(text))
                if c is not None:
                    return _client_record(c)
            found = list(s.scalars(select(Client).where(func.lower(Client.name) == text.lower())))
            if len(found) == 1:
                return _client_record(found[0])
            if len(found) > 1:
                ids = ", ".join(str(c.id) for c in found)
                raise StoreError(
                    f"{len(found)} clients are called {text!r} (ids {ids}).", "Give the client's id instead."
                )
        raise NotFoundError(f"No client with id or name {text!r}.")

    def delete_client(self, client_id: int) -> None:
        """Erase the client, every assessment and every photo byte of theirs.

        On SQLite the file is then VACUUMed and the WAL checkpointed and truncated, so the deleted
        bytes are gone from disk, not just unlinked from the tables (``secure_delete`` zeroes the
        freed pages as well)."""
        with self._tx() as s:
            c = self._client(s, client_id)
            s.delete(c)
            self._vacuum_after(s)

    # assessments
    def save_assessment(
        self,
        client_id: int,
        photo: Any,
        analysis: Any,
        notes: str = "",
        taken_at: dt.date | None = None,
    ) -> int:
        """Store one analysed photo for a client; returns the new assessment id.

        ``photo`` is a :class:`posture.imaging.Photo` (its working copy is re-encoded without
        metadata) or an RGB uint8 array; ``analysis`` a :class:`posture.analysis.Analysis` (with any
        manual corrections and findings already applied). The assessment row and its photo row are
        written in one transaction.

        Refused with :class:`ConsentError` when the client's consent is not recorded."""
        rgb = np.asarray(getattr(photo, "rgb", photo))
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise StoreError("The photo must be an RGB uint8 image.", "Pass the Photo that was analysed.")
        data, mime = encode_photo(rgb, self.options)
        d = analysis.to_dict()
        scale = d.get("scale") or {}
        with self._tx() as s:
            if not self._client(s, client_id).consent_given:
                raise ConsentError(
                    f"Not saved: client #{client_id} has no recorded consent to storing their photo "
                    "and measurements."
                )
            a = Assessment(
                client_id=client_id,
                taken_at=taken_at or dt.date.today(),
                view=str(d["view"]),
                height_cm=scale.get("stature_cm"),
                landmarks=d["landmarks"],
                measurements=d["measurements"],
                findings=list(d.get("findings") or []),
                analysis=d,
                notes=typed.notes(notes),
            )
            a.photo = Photo(
                mime_type=mime,
                width=int(rgb.shape[1]),
                height=int(rgb.shape[0]),
                sha256=hashlib.sha256(data).hexdigest(),
                data=data,
            )
            s.add(a)
            s.flush()
            return a.id

    def save_for_client(
        self,
        photo: Any,
        analysis: Any,
        *,
        client_id: int | None = None,
        new_name: str = "",
        consent: bool = False,
        notes: str = "",
        taken_at: dt.date | None = None,
    ) -> tuple[int, int]:
        """Save an assessment for an existing client (``client_id``) or a new one (``new_name``),
        recording the consent given now (``consent``) if it is not recorded yet, all in ONE
        transaction: should any step fail, no client, no consent and no assessment is left behind.

        A new client needs ``consent``; an existing one needs it recorded already or given now,
        else :class:`ConsentError` and nothing is written. Returns (client id, assessment id)."""
        with self.transaction():
            if client_id is None:
                if not (new_name or "").strip():
                    raise StoreError("A new client needs a name or a code.",
                                     "Enter a name or a pseudonymous code.")
                if not consent:
                    raise ConsentError("Not saved: the new client's consent to storing their photo "
                                       "and measurements is not given.")
                client_id = self.create_client(new_name, consent_given=True)
            elif consent and not self.get_client(client_id).consent_given:
                self.record_consent(client_id, True)
            aid = self.save_assessment(client_id, photo, analysis, notes=notes, taken_at=taken_at)
        return client_id, aid

    def update_assessment(
        self, assessment_id: int, *, analysis: Any | None = None, notes: str | None = None,
        taken_at: dt.date | None = None,
    ) -> AssessmentRecord:
        """Replace the stored analysis (e.g. after manual landmark corrections), the notes and/or
        the session date (``taken_at``: a date, not in the future)."""
        if taken_at is not None:
            if not isinstance(taken_at, dt.date) or isinstance(taken_at, dt.datetime):
                raise StoreError("The session date must be a date.")
            if taken_at > dt.date.today():
                raise StoreError(f"The session date {taken_at:%d %b %Y} is in the future.",
                                 "Give the day the photo was taken.")
        with self._tx() as s:
            a = self._assessment(s, assessment_id)
            if taken_at is not None:
                a.taken_at = taken_at
            if analysis is not None:
                d = analysis.to_dict()
                a.analysis = d
                a.landmarks = d["landmarks"]
                a.measurements = d["measurements"]
                a.findings = list(d.get("findings") or [])
            if notes is not None:
                a.notes = typed.notes(notes)
            s.flush()
            return _assessment_record(a, a.photo.mime_type if a.photo else None)

    def list_assessments(self, client_id: int) -> list[AssessmentRecord]:
        """The client's assessments, oldest first (by date taken, then by id)."""
        with self._tx() as s:
            self._client(s, client_id)
            rows = s.execute(
                select(Assessment, Photo.mime_type)
                .outerjoin(Photo, Photo.assessment_id == Assessment.id)
                .where(Assessment.client_id == client_id)
                .order_by(Assessment.taken_at, Assessment.id)
            ).all()
            return [_assessment_record(a, mime) for a, mime in rows]

    def get_assessment(self, assessment_id: int) -> AssessmentRecord:
        with self._tx() as s:
            a = self._assessment(s, assessment_id)
            mime = s.scalar(select(Photo.mime_type).where(Photo.assessment_id == assessment_id))
            return _assessment_record(a, mime)

    def delete_assessment(self, assessment_id: int) -> None:
        """Erase ONE assessment and its photo; the client and their other assessments stay. As for
        :meth:`delete_client`, the file is then VACUUMed (SQLite; ``VACUUM FULL`` on PostgreSQL) so
        the photo's bytes leave the disk too."""
        with self._tx() as s:
            s.delete(self._assessment(s, assessment_id))
            self._vacuum_after(s)

    def get_photo_bytes(self, assessment_id: int) -> bytes:
        """The stored (metadata-free) photo file bytes of an assessment."""
        with self._tx() as s:
            data = s.scalar(select(Photo.data).where(Photo.assessment_id == assessment_id))
        if data is None:
            raise NotFoundError(f"Assessment {assessment_id} has no stored photo.")
        return bytes(data)

    def get_photo(self, assessment_id: int) -> Any:
        """The stored photo as a :class:`posture.imaging.Photo` whose ``width``/``height`` are the
        ORIGINAL full size, so that the stored analysis's full-size landmark pixels line up with it
        (``Photo.scale`` converts, as for a freshly loaded photo)."""
        from posture.imaging import Photo as PosturePhoto

        rec = self.get_assessment(assessment_id)
        data = self.get_photo_bytes(assessment_id)
        with Image.open(io.BytesIO(data)) as im:
            rgb = np.asarray(im.convert("RGB"), dtype=np.uint8)
        image = rec.analysis.get("image") or {}
        return PosturePhoto(
            rgb=np.ascontiguousarray(rgb),
            width=int(image.get("width") or rgb.shape[1]),
            height=int(image.get("height") or rgb.shape[0]),
            sha256=str(image.get("sha256") or hashlib.sha256(data).hexdigest()),
            source_format="stored",
        )

    # export / backup
    def export_client_zip(self, client_id: int) -> bytes:
        """A zip of everything stored about a client (see :func:`posture.store.export.client_zip`)."""
        return client_zip(self, client_id)

    def backup(self, path: str | Path, progress: BackupProgress | None = None) -> Path:
        """Copy the whole database to ``path`` with SQLite's online backup API (safe while other
        processes write), through a temporary file moved over ``path`` only when complete (see
        :func:`posture.store.engine.backup_sqlite`). PostgreSQL: use ``pg_dump``."""
        return backup_sqlite(self.engine, path, progress=progress)

    # helpers
    def _client(self, s: Session, client_id: int) -> Client:
        c = s.get(Client, client_id)
        if c is None:
            raise NotFoundError(f"No client with id {client_id}.")
        return c

    def _assessment(self, s: Session, assessment_id: int) -> Assessment:
        a = s.get(Assessment, assessment_id)
        if a is None:
            raise NotFoundError(f"No assessment with id {assessment_id}.")
        return a

    def _vacuum_after(self, s: Session) -> None:
        """VACUUM once the transaction that holds ``s`` has committed (never inside it)."""
        s.flush()
        self._local.vacuum_pending = True


def open_store(url: str | None = None, options: StoreOptions | None = None) -> Store:
    """Open (and create or migrate) the store at ``url`` or the default location."""
    target = url or default_url()
    try:
        engine = make_engine(target, options)
        migrate(engine)
    except PostureError:
        raise
    except Exception as exc:
        raise StoreError(f"The database at {make_url(target).render_as_string()} could not be opened "
                         f"({type(exc).__name__}: {exc}).") from exc
    return Store(engine, options)




def analysis_from_dict(d: Mapping[str, Any]) -> Analysis:
    """A stored ``Analysis.to_dict()`` back as an :class:`~posture.analysis.Analysis`
    (:meth:`~posture.analysis.Analysis.from_dict`); a wrong schema is a :class:`StoreError`."""
    from posture.analysis import SCHEMA, Analysis  # the model stack loads only when needed

    if d.get("schema") != SCHEMA:
        raise StoreError(f"Stored analysis has schema {d.get('schema')!r}, expected {SCHEMA!r}.")
    return Analysis.from_dict(d)
