"""One rule for "clear" over every measurement of every view: a value is a clear asymmetry or
offset when it exceeds both its own ± and the noise band of its measurement
(:func:`posture.significance.is_clear`). The front-view lines and shifts take their bands from
:class:`~posture.findings.rules.FindingOptions`; the side-view measurements from
:class:`~posture.findings.across.AcrossOptions`, counted beyond the published average offset where
there is one (cm offsets, Woodhull 1985). The cards, both PDFs, the photo's drawing and the findings
all ask here, so that none calls a value "clear" that another calls "within noise".

Its place in the layers: inside ``posture.findings``; imports its rules and across modules only.
"""

from __future__ import annotations

from typing import Final

from posture.constants import UNIT_CM
from posture.findings.across import AcrossOptions, side_cutoffs, side_excess
from posture.findings.rules import NOISE, FindingOptions
from posture.metrics import Measurement
from posture.significance import is_clear

#: the measurements of a side view (``posture.sideview``)
SIDE_MEASUREMENTS: Final = frozenset({"head_forward", "trunk_lean", "hip_forward", "knee_extension",
                                      "plumb_line"})


def noise_band(m: Measurement, options: FindingOptions | None = None,
               across: AcrossOptions | None = None) -> float:
    """The noise band of ``m`` in its own unit (the card shows it; the findings and reports use it)."""
    if m.name in SIDE_MEASUREMENTS:
        return side_cutoffs(m, across or AcrossOptions()).noise
    return (options or FindingOptions()).cutoffs(m).noise


def reference(m: Measurement, across: AcrossOptions | None = None) -> float:
    """The value ``m`` is counted from: the published average of a side view's cm offset, else 0."""
    if m.name in SIDE_MEASUREMENTS and m.unit == UNIT_CM:
        return (across or AcrossOptions()).offset_reference_cm(m.name)
    return 0.0


def _excess(m: Measurement, across: AcrossOptions | None) -> float:
    assert m.value is not None
    if m.name in SIDE_MEASUREMENTS:
        return side_excess(m, across or AcrossOptions())
    return float(m.value)


def counts(m: Measurement | None, options: FindingOptions | None = None,
           across: AcrossOptions | None = None) -> bool:
    """True when ``m`` is clear by the one rule (see the module's text)."""
    if m is None or not m.available or m.value is None:
        return False
    return is_clear(_excess(m, across), m.uncertainty, noise_band(m, options, across))


def band(m: Measurement, options: FindingOptions | None = None,
         across: AcrossOptions | None = None) -> str:
    """The severity band of a clear value (:data:`~posture.findings.rules.NOISE` when not clear)."""
    if not counts(m, options, across):
        return NOISE
    ex = abs(_excess(m, across))
    if m.name in SIDE_MEASUREMENTS:
        return side_cutoffs(m, across or AcrossOptions()).band(ex)
    return (options or FindingOptions()).cutoffs(m).band(ex)
