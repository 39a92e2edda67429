"""Everything stored about one client as a zip: :func:`client_zip` (``Store.export_client_zip``).

``client.json``, and per assessment a folder with ``assessment.json`` (incl. the full analysis), the
photo, and ``report.pdf``; ``manifest.json`` lists the contents (and why a PDF is missing, if one is).
"""

from __future__ import annotations

import datetime as dt
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
    folder with ``assessment.json`` (incl. the full analysis), the photo, and ``report.pdf``.
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
        for n, rec in enumerate(records, start=1):
            folder = f"assessments/{n:03d}_{rec.taken_at.isoformat()}_id{rec.id}"
            put(f"{folder}/assessment.json", json.dumps(rec.to_dict(), indent=2, ensure_ascii=False))
            if rec.photo_mime is None:
                continue
            ext = "png" if rec.photo_mime == "image/png" else "jpg"
            put(f"{folder}/photo.{ext}", store.get_photo_bytes(rec.id))
            pdf, why = _report_pdf(store, rec)
            if pdf is not None:
                put(f"{folder}/report.pdf", pdf)
            else:
                manifest["notes"].append(f"{folder}: no PDF ({why})")
        z.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
    return buf.getvalue()


def _report_pdf(store: _Records, rec: Any) -> tuple[bytes | None, str | None]:
    from posture.report import annotate, build_report  # the model stack loads only when needed
    from posture.report.pdf import render_pdf

    try:
        photo = store.get_photo(rec.id)
        analysis = rec.to_analysis()
        report = build_report(photo, analysis, when=rec.taken_at)
        pdf = render_pdf(report, annotate(photo, analysis))
    except Exception as exc:  # an export must not fail because one PDF did
        return None, f"{type(exc).__name__}: {exc}"
    return pdf, None
