"""Everything stored about one client as a zip: :func:`client_zip` (``Store.export_client_zip``).

``client.json``, and per assessment a folder with ``assessment.json`` (incl. the full analysis), the
photo, and ``report.pdf``; ``manifest.json`` lists the contents (and why a PDF is missing, if one is).

No fingerprint of the original upload leaves the machine: the analysis's ``image.sha256`` (the
SHA-256 of the uploaded FILE, which may have carried GPS and camera metadata, so it could link the
export to that file wherever it turns up) is dropped from every exported analysis; each assessment
carries ``photo_sha256`` instead, the SHA-256 of the exported, metadata-free ``photo.*`` beside it
(a checksum the recipient can verify, identifying nothing beyond the pixels they already hold).
Inside the store ``image.sha256`` stays: the app keys its session cache and save fingerprint on it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from typing import Any, Protocol

EXPORT_SCHEMA = "posture.client_export/1"


class _Records(Protocol):
    """What the export reads from the store (:class:`posture.store.repository.Store`)."""

    def get_client(self, client_id: int) -> Any: ...
    def list_assessments(self, client_id: int) -> list[Any]: ...
    def get_photo_bytes(self, assessment_id: int) -> bytes: ...
    def get_photo(self, assessment_id: int) -> Any: ...


def client_zip(store: _Records, client_id: int) -> bytes:
    """A zip of everything stored about a client: ``client.json``, and per assessment a
    folder with ``assessment.json`` (incl. the full analysis), the photo, and ``report.pdf`` (with
    the client's name, the session's date and notes, the clinic and therapist of the settings).
    ``manifest.json`` lists the contents."""
    client = store.get_client(client_id)
    records = store.list_assessments(client_id)
    manifest: dict[str, Any] = {
        "schema": EXPORT_SCHEMA,
        "exported_at": dt.datetime.now(dt.UTC).isoformat(),
        "client_id": client.id,
        "files": [],
        "notes": [],
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:

        def put(name: str, data: bytes | str) -> None:
            z.writestr(name, data)
            manifest["files"].append(name)

        put("client.json", json.dumps(client.to_dict(), indent=2, ensure_ascii=False))
        visits = _visits(store, client_id)
        if visits:  # the sessions that group assessments into one visit (notes, findings across views)
            put("visits.json", json.dumps(visits, indent=2, ensure_ascii=False))
        for n, rec in enumerate(records, start=1):
            folder = f"assessments/{n:03d}_{rec.taken_at.isoformat()}_id{rec.id}"
            photo = store.get_photo_bytes(rec.id) if rec.photo_mime is not None else None
            doc = exported_assessment(rec.to_dict(), photo)
            put(f"{folder}/assessment.json", json.dumps(doc, indent=2, ensure_ascii=False))
            if photo is None:
                continue
            ext = "png" if rec.photo_mime == "image/png" else "jpg"
            put(f"{folder}/photo.{ext}", photo)
            pdf, why = _report_pdf(store, rec, client.name)
            if pdf is not None:
                put(f"{folder}/report.pdf", pdf)
            else:
                manifest["notes"].append(f"{folder}: no PDF ({why})")
        z.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
    return buf.getvalue()


def _visits(store: _Records, client_id: int) -> list[dict[str, Any]]:
    """The client's visits (``posture.store.visits``): date, height, notes, the findings across
    views and each view's assessment id (the assessment folders hold the photos and analyses)."""
    from sqlalchemy import select

    from posture.store.models import Visit

    tx = getattr(store, "_tx", None)
    if tx is None:
        return []
    with tx() as s:
        rows = s.scalars(select(Visit).where(Visit.client_id == client_id).order_by(Visit.taken_at, Visit.id))
        return [{"id": r.id, "taken_at": r.taken_at.isoformat(), "height_cm": r.height_cm,
                 "notes": r.notes or "", "findings_across": list(r.findings_across or []),
                 "assessment_ids": {a.view: a.id for a in r.assessments}} for r in rows]


def exported_assessment(record: dict[str, Any], photo: bytes | None) -> dict[str, Any]:
    """An assessment's dict as exported: without the upload's SHA-256 (``analysis.image.sha256``),
    with ``photo_sha256`` of the exported photo bytes (None without a photo)."""
    analysis = dict(record.get("analysis") or {})
    image = dict(analysis.get("image") or {})
    image.pop("sha256", None)
    if "image" in analysis:
        analysis["image"] = image
    out = {**record, "analysis": analysis}
    out["photo_sha256"] = hashlib.sha256(photo).hexdigest() if photo is not None else None
    return out


def _report_pdf(store: _Records, rec: Any, client: str) -> tuple[bytes | None, str | None]:
    """The assessment's report as the clinic hands it out: the client's name, the session date
    and the therapist's notes, the clinic settings' letterhead and face blur."""
    from posture.report import annotate, build_report  # the model stack loads only when needed
    from posture.report.layout import clinic_practice
    from posture.report.pdf import render_pdf
    from posture.settings import load_settings

    try:
        photo = store.get_photo(rec.id)
        analysis = rec.to_analysis()
        report = build_report(photo, analysis, client=client, notes=rec.notes or None,
                              when=rec.taken_at)
        pdf = render_pdf(report, annotate(photo, analysis), blur_faces=load_settings().blur_faces,
                         practice=clinic_practice())
    except Exception as exc:  # an export must not fail because one PDF did
        return None, f"{type(exc).__name__}: {exc}"
    return pdf, None
