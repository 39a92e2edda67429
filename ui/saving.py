"""The rules of saving an assessment to a client, written without Streamlit so they can be tested alone.

* Consent first: nothing is written for a client whose consent to storing their photo and
  measurements is neither recorded already nor given now.
* All or nothing: should the save fail after a new client or a new consent was written, those are
  undone, so nothing partial stays behind.
* What is saved is the CURRENT analysis (hand-placed landmarks and findings included);
  :func:`fingerprint` tells whether that exact analysis was saved already.

The New-assessment page (``ui/pages/assessment.py``) only reads its widgets and calls
:func:`save_assessment`. Failures are logged by exception type only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging

from posture.analysis import Analysis
from posture.imaging import Photo
from posture.store import Store, StoreError

log = logging.getLogger("posture.app")

NO_CONSENT = (
    "Not saved: the client's consent to storing their photo and measurements is not recorded. "
    "Tick the consent box once the client has agreed."
)
NOTHING_SAVED = "Nothing was saved."


def fingerprint(analysis: Analysis) -> str:
    """Identifies what would be saved: the photo, the view, the landmarks (hand-placed ones
    included) and the measurements. Another correction gives another fingerprint."""
    d = analysis.to_dict()
    body = json.dumps([d.get("image", {}).get("sha256"), d.get("view"), d.get("landmarks"),
                       d.get("measurements")], sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def save_assessment(
    store: Store,
    photo: Photo,
    analysis: Analysis,
    *,
    client_id: int | None,
    new_name: str,
    consent: bool,
    notes: str,
    taken_at: dt.date,
) -> tuple[int, int]:
    """Save the CURRENT analysis (hand corrections and findings included) for a client.

    ``client_id`` None creates the client ``new_name`` first. Consent must be recorded already or
    given now (``consent``), else nothing is written (StoreError). Should the save fail after a
    new client or a new consent was written, those are undone, so nothing partial stays behind.
    Returns (client id, assessment id)."""
    created = False
    consent_added = False
    if client_id is None:
        if not new_name.strip():
            raise StoreError("A new client needs a name or a code.", "Enter a name or a pseudonymous code.")
        if not consent:
            raise StoreError(NO_CONSENT, NOTHING_SAVED)
        client_id = int(store.create_client(new_name, consent_given=True))
        created = True
    else:
        client = store.get_client(client_id)
        if not client.consent_given:
            if not consent:
                raise StoreError(NO_CONSENT, NOTHING_SAVED)
            store.record_consent(client_id, True)
            consent_added = True
    try:
        aid = int(store.save_assessment(client_id, photo, analysis, notes=notes, taken_at=taken_at))
    except BaseException:
        try:
            if created:
                store.delete_client(client_id)
            elif consent_added:
                store.record_consent(client_id, False)
        except Exception as undo:  # the original error is the one to report
            log.error("undoing a failed save failed: %s", type(undo).__name__)
        raise
    return client_id, aid
