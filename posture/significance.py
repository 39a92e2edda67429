"""The one rule for "real": when a value (or a change between two photos) is a clear asymmetry.

A value is clear only when its magnitude exceeds BOTH its own 95% uncertainty (the "±" of
``posture.metrics``: what this photo can know about its own error) AND the noise band of the
measurement (what the ± cannot see: how differently a client stands from one moment or day to the
next, and the digitising error of marking a body). Everything else reads
:data:`WITHIN_NOISE`.

Every surface asks this module: the measurement cards (``ui.components.cards``), the findings
(``posture.findings.rules.counts``), the report's measurement table and so both PDFs (the report's
reading, and ``posture.compare``'s real-change verdict for a change between two photos). Its place in
the layers: beside ``posture.constants``; it imports nothing from the package.
"""

from __future__ import annotations

import math

__all__ = ["CLEAR_RULE", "UNCERTAINTY_COVERS", "WITHIN_NOISE", "is_clear"]

#: the words for a value that is not clear, on every surface
WITHIN_NOISE = "within measurement noise"

#: what the ± covers and what it cannot, in one sentence (the app and the PDF print it)
UNCERTAINTY_COVERS = (
    "The ± (95%) covers the model's repeatability, landmark placement, the camera's level, the scale "
    "and points placed by hand; it cannot cover clothing that hides the body or a client who stands "
    "differently on another day."
)

#: the rule in words
CLEAR_RULE = "A value counts as a clear asymmetry only when it exceeds both its ± and the noise band."


def is_clear(value: float | None, uncertainty: float | None, band: float) -> bool:
    """True when ``|value|`` exceeds both ``uncertainty`` (its 95% ±; None counts as 0) and
    ``band`` (the noise band, same unit). A missing or non-finite value is never clear."""
    if value is None or not math.isfinite(value):
        return False
    mag = abs(value)
    unc = uncertainty if uncertainty is not None and math.isfinite(uncertainty) else 0.0
    return mag > unc and mag > band
