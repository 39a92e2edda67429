"""Measurement cards: one card per measurement (label, value ± uncertainty, side in words), and the
page's level/scale line.

Pure functions returning text (tested without Streamlit); every value ± text comes from the one
formatter, :func:`posture.formatting.format_value`.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from posture.findings import FindingOptions, counts, noise_band, reference
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
    """The card's noise-band caption, e.g. 'noise band ±1.0°' (a side view's cm offset: around the
    published average, from which it is counted)."""
    text = f"noise band ±{format_number(noise_band(m, options), m.unit, signed=False)}"
    ref = reference(m)
    if ref:
        text += f" around the published average {format_number(ref, m.unit)}"
    return text


@dataclass(frozen=True)
class Card:
    """What one measurement card shows, as plain text (the page draws it with ``st.metric``).

    ``value``: :func:`fmt_value` ('unavailable' when not measured); ``side``: the side in words
    ('right shoulder lower'; the reason when unavailable); ``note``: 'within measurement noise' or '';
    ``lines``: the noise band and the secondary quantities; ``hand``: rests on hand-placed points."""

    label: str
    value: str
    side: str
    note: str = ""
    lines: tuple[str, ...] = ()
    hand: bool = False
    available: bool = True


def card_parts(
    m: Measurement, manual: Iterable[str] = (), options: FindingOptions | None = None
) -> Card:
    """The card of ``m``. A value reads as a clear asymmetry by the same rule as the findings and
    the PDF (:func:`posture.findings.counts`: beyond its ± AND the band), else 'within measurement
    noise'."""
    if not m.available or m.value is None:
        return Card(m.label, UNAVAILABLE, m.reason or "not measurable on this photo", available=False)
    details = [fmt_detail(k, q) for k, q in m.details.items() if k != "pixels" or m.unit == "px"]
    return Card(
        label=m.label,
        value=fmt_value(m),
        side=m.side,
        note="" if counts(m, options) else WITHIN_NOISE,
        lines=(band_text(m, options), *details),
        hand=any(n in set(manual) for n in m.landmarks),
    )


HAND_PLACED = "uses hand-placed landmarks"


def card_html(
    m: Measurement, manual: Iterable[str] = (), options: FindingOptions | None = None
) -> str:
    """One measurement card (:func:`card_parts`) as escaped HTML, for text consumers (the classes
    ``pc-*``; no stylesheet); the page itself shows the card with ``st.metric``."""
    c = card_parts(m, manual, options)
    label = html.escape(c.label)
    if not c.available:
        return (
            '<div class="pc-card pc-off">'
            f'<div class="pc-label">{label}</div>'
            f'<div class="pc-reason">unavailable: {html.escape(c.side)}</div></div>'
        )
    extra = f'<div class="pc-band">{html.escape(c.lines[0])}</div>'
    if c.lines[1:]:
        extra += f'<div class="pc-detail">{html.escape("; ".join(c.lines[1:]))}</div>'
    if c.hand:
        extra += f'<div class="pc-manual">{HAND_PLACED}</div>'
    return (
        f'<div class="pc-card{" pc-noise" if c.note else ""}">'
        f'<div class="pc-label">{label}</div>'
        f'<div class="pc-value">{html.escape(c.value)}</div>'
        f'<div class="pc-side">{html.escape(c.side)}'
        + (f' <span class="pc-note">· {c.note}</span>' if c.note else "")
        + f"</div>{extra}</div>"
    )


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
