"""The rules of saving an assessment to a client, written without Streamlit so they can be tested alone.

* Consent first: nothing is written for a client whose consent to storing their photo and
  measurements is neither recorded already nor given now.
* All or nothing: the new client, the new consent and the assessment are written in ONE store
  transaction (:meth:`posture.store.Store.save_for_client`), so a failure leaves nothing partial.
  The store itself refuses an assessment for a client without recorded consent.
* What is saved is the CURRENT analysis (hand-placed landmarks and findings included);
  :func:`fingerprint` tells whether that exact analysis was saved already.

The New-assessment page (``ui/pages/assessment.py``) only reads its widgets and calls
:func:`save_assessment`. Failures are logged with their traceback, never with a photo, a name or a note.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from posture.analysis import Analysis
from posture.imaging import Photo
from posture.store import ConsentError, Store, StoreError

NO_CONSENT = (
    "Not saved: the client's consent to storing their photo and measurements is not recorded. "
    "Tick the consent box once the client has agreed."
)
NOTHING_SAVED = "Nothing was saved."


def fingerprint(analysis: Analysis) -> str:
    """Identifies what would be saved: the photo, the view, the landmarks (hand-placed ones
    included), the measurements and the therapist's stance confirmation. Another correction (or
    confirmation) gives another fingerprint."""
    d = analysis.to_dict()
    body = json.dumps([d.get("image", {}).get("sha256"), d.get("view"), d.get("landmarks"),
                       d.get("measurements"), (d.get("capture") or {}).get("confirmed")],
                      sort_keys=True, default=str)
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
    given now (``consent``), else nothing is written (StoreError). The client, the consent and the
    assessment are one transaction: should any step fail, none of them stays behind.
    Returns (client id, assessment id)."""
    try:
        return store.save_for_client(photo, analysis, client_id=client_id, new_name=new_name,
                                     consent=consent, notes=notes, taken_at=taken_at)
    except ConsentError:
        raise StoreError(NO_CONSENT, NOTHING_SAVED) from None
