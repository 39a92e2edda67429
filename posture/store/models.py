"""SQLAlchemy 2 typed ORM models: clients, their assessments, and each assessment's photo.

Four tables:

* ``clients`` - who the client is (a name or a code), optional date of birth, notes, and the consent
  record (``consent_given`` + ``consent_at``).
* ``assessments`` - one analysed photo of a client on a date: the view, the height used for
  centimetres, the landmarks (with manual corrections), the measurements with their ±, the findings,
  the full ``Analysis.to_dict()`` and the therapist's notes. Deleting a client deletes these
  (``ON DELETE CASCADE`` in the database and ``delete-orphan`` in the ORM).
* ``visits`` - one session of a client (``posture.exam.Visit``): its date, the height, notes and the
  findings across views; its photos are assessments with ``visit_id`` set, one per view (front,
  back, left, right). An assessment without a visit (saved before visits existed, or a single
  photo) is a visit of one view. Deleting a visit deletes its assessments and their photos (ORM
  cascade); deleting a client deletes their visits (``ON DELETE CASCADE``) and assessments.
* ``photos`` - the photo bytes of one assessment (1:1), kept in their own table so that listing
  assessments never loads megabytes of pixels. The bytes are a re-encoded working copy with no
  metadata (no EXIF, no GPS): see :func:`posture.store.repository.encode_photo`.

The schema itself is created by the Alembic migrations ``0001_initial`` and ``0002_visits``;
``Base.metadata`` is what those migrations mirror (a test checks that the two agree).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Client(Base):
    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)  # a name or a pseudonymous code
    date_of_birth: Mapped[dt.date | None] = mapped_column(Date, default=None)
    notes: Mapped[str] = mapped_column(Text, default="")
    consent_given: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    assessments: Mapped[list[Assessment]] = relationship(
        back_populates="client",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Assessment.taken_at, Assessment.id",
    )
    visits: Mapped[list[Visit]] = relationship(
        back_populates="client",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Visit.taken_at, Visit.id",
    )


class Visit(Base):
    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE", name="fk_visits_client_id"), index=True
    )
    taken_at: Mapped[dt.date] = mapped_column(Date)
    height_cm: Mapped[float | None] = mapped_column(Float, default=None)
    notes: Mapped[str] = mapped_column(Text, default="")
    findings_across: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    client: Mapped[Client] = relationship(back_populates="visits")
    assessments: Mapped[list[Assessment]] = relationship(
        back_populates="visit",
        primaryjoin="Visit.id == foreign(Assessment.visit_id)",
        cascade="all, delete-orphan",
        order_by="Assessment.id",
    )


class Assessment(Base):
    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), index=True
    )
    # the visit this photo belongs to (one assessment per view); None = a visit of one view. A plain
    # indexed column, no database foreign key: SQLite cannot add one to an existing table without
    # copying it, and dropping the old copy would cascade into the photos. The ORM relationship
    # (Visit.assessments, delete-orphan) deletes a visit's assessments; a client's go by client_id.
    visit_id: Mapped[int | None] = mapped_column(Integer, index=True, default=None)
    taken_at: Mapped[dt.date] = mapped_column(Date)
    view: Mapped[str] = mapped_column(String(20))
    height_cm: Mapped[float | None] = mapped_column(Float, default=None)
    landmarks: Mapped[dict[str, Any]] = mapped_column(JSON)
    measurements: Mapped[dict[str, Any]] = mapped_column(JSON)
    findings: Mapped[list[Any]] = mapped_column(JSON)
    analysis: Mapped[dict[str, Any]] = mapped_column(JSON)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    client: Mapped[Client] = relationship(back_populates="assessments")
    visit: Mapped[Visit | None] = relationship(
        back_populates="assessments", primaryjoin="foreign(Assessment.visit_id) == Visit.id"
    )
    photo: Mapped[Photo | None] = relationship(
        back_populates="assessment",
        cascade="all, delete-orphan",
        passive_deletes=True,
        uselist=False,
        lazy="select",
    )


class Photo(Base):
    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("assessments.id", ondelete="CASCADE"), unique=True
    )
    mime_type: Mapped[str] = mapped_column(String(40))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))  # of the stored bytes
    data: Mapped[bytes] = mapped_column(LargeBinary)

    assessment: Mapped[Assessment] = relationship(back_populates="photo")
