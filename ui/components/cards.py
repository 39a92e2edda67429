"""Measurement cards: one card per measurement (label, value ± uncertainty, side in words), and the
page's level/scale line.

Pure functions returning text (tested without Streamlit); every value ± text comes from the one
formatter, :func:`posture.formatting.format_value`.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping
from typing import Any

from posture.findings import FindingOptions, counts, noise_band
from posture.formatting import UNAVAILABLE, format_number, format_value
from posture.metrics import Measurement
from posture.significance import CLEAR_RULE, UNCERTAINTY_COVERS, WITHIN_NOISE

#: the measurements' caption in the app: what the ± covers, and the one rule for "clear"
MEASUREMENTS_CAPTION = f"{UNCERTAINTY_COVERS} {CLEAR_RULE}"


def fmt_value(m: Measurement) -> str:
    """The card's value text: :func:`posture.formatting.format_value` of the measurement
    ('+2.4° ± 0.8°', '+1.2 cm ± 0.9 cm'; the sign: + means the client's right, see the side text),
    'unavailable' when it was not measured."""
    if not m.available:
        return UNAVAILABLE
    return format_value(m.value, m.unit, m.uncertainty)


def fmt_detail(name: str, q: Any) -> str:
    """A secondary quantity as 'Height difference: 1.2 cm ± 0.6 cm' (a magnitude: the side is on
    the card already), 'Height difference: -' when missing."""
    label = name.replace("_", " ").capitalize()
    value = getattr(q, "value", None)
    if value is None or not math.isfinite(value):
        return f"{label}: -"
    unit = str(getattr(q, "unit", ""))
    return f"{label}: {format_value(abs(value), unit, getattr(q, 'uncertainty', None), signed=False)}"


def band_text(m: Measurement, options: FindingOptions | None = None) -> str:
    """The card's noise-band caption, e.g. 'noise band ±1.0°'."""
    return f"noise band ±{format_number(noise_band(m, options), m.unit, signed=False)}"


def card_html(
    m: Measurement, manual: Iterable[str] = (), options: FindingOptions | None = None
) -> str:
    """One measurement card as HTML (escaped): label, value ± uncertainty, side in words, and the
    noise band. A value reads as a clear asymmetry by the same rule as the findings and the PDF
    (:func:`posture.findings.counts`: beyond its ± AND the band), else 'within measurement noise'."""
    manual_set = set(manual)
    label = html.escape(m.label)
    if not m.available or m.value is None:
        reason = html.escape(m.reason or "not measurable on this photo")
        return (
            '<div class="pc-card pc-off">'
            f'<div class="pc-label">{label}</div>'
            f'<div class="pc-reason">unavailable: {reason}</div></div>'
        )
    within = not counts(m, options)
    side = html.escape(m.side)
    note = WITHIN_NOISE if within else ""
    details = [
        fmt_detail(k, q) for k, q in m.details.items() if k != "pixels" or m.unit == "px"
    ]
    hand = [n for n in m.landmarks if n in manual_set]
    extra = f'<div class="pc-band">{html.escape(band_text(m, options))}</div>'
    if details:
        extra += f'<div class="pc-detail">{html.escape("; ".join(details))}</div>'
    if hand:
        extra += '<div class="pc-manual">uses hand-placed landmarks</div>'
    return (
        f'<div class="pc-card{" pc-noise" if within else ""}">'
        f'<div class="pc-label">{label}</div>'
        f'<div class="pc-value">{html.escape(fmt_value(m))}</div>'
        f'<div class="pc-side">{side}'
        + (f' <span class="pc-note">· {note}</span>' if note else "")
        + f"</div>{extra}</div>"
    )


CARD_CSS = """
<style>
[data-testid="stMainBlockContainer"], .block-container {padding-top: 2.2rem;}
.pc-card {border: 1px solid #d5dee2; border-left: 4px solid #2a7f8f; border-radius: 6px;
  padding: 0.4rem 0.75rem; margin-bottom: 0.45rem; background: #ffffff;}
.pc-card.pc-noise {border-left-color: #a9bfc4;}
.pc-card.pc-off {border-left-color: #c9d0d3; background: #f1f3f4; color: #8a9599;}
.pc-label {font-size: 0.8rem; color: #51646b; font-weight: 600; letter-spacing: 0.01em;}
.pc-off .pc-label {color: #8a9599;}
.pc-value {font-size: 1.3rem; font-weight: 600; color: #17323a; line-height: 1.35;}
.pc-side {font-size: 0.92rem; color: #17323a;}
.pc-note {color: #6f8288; font-size: 0.82rem;}
.pc-detail {font-size: 0.78rem; color: #5d6f75;}
.pc-band {font-size: 0.78rem; color: #6f8288;}
.pc-manual {font-size: 0.78rem; color: #a35f00;}
.pc-reason {font-size: 0.88rem; font-style: italic; padding: 0.2rem 0;}
</style>
"""


def level_text(level: Mapping[str, Any] | None, scale: Mapping[str, Any] | None) -> str:
    parts = []
    if level:
        parts.append(f"Level: {level.get('description', '')}.")
    if scale and scale.get("cm_per_px"):
        parts.append(
            f"Scale: {float(scale['cm_per_px']) * 10:.2f} mm per pixel from the client's height "
            f"({float(scale.get('stature_cm', 0)):.0f} cm)."
        )
    else:
        parts.append("Scale: no height given, so lengths are in % of shoulder width.")
    return " ".join(parts)
