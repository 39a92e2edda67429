"""The one formatter of a value and its ± for every surface: app cards, CLI text, both PDFs.

    format_value(+2.43, "deg", 1.06)               -> "+2.4° ± 1.1°"
    format_value(1.3, "cm", 0.8)                   -> "+1.3 cm ± 0.8 cm"
    format_value(3.0, "% shoulder width", 1.2)     -> "+3.0 % ± 1.2 % of shoulder width"
    format_value(-0.04, "deg", 0.5)                -> "0.0° ± 0.5°"   (no "-0.0", no side for a printed 0)
    format_value(None, "deg", None)                -> "unavailable"

A value whose magnitude is below :data:`posture.constants.LEVEL_CUTOFF` prints as 0.0 with no sign.
"""

from __future__ import annotations

import math

from posture.constants import (
    LEVEL_CUTOFF,
    UNIT_CM,
    UNIT_DEG,
    UNIT_PCT_EAR_ANKLE,
    UNIT_PCT_SHOULDER,
)

UNAVAILABLE = "unavailable"
# the decimals an analysis keeps in its JSON (``posture.metrics``: values and ± to 0.01): a number is
# rounded to them before it is printed, so that a saved and reopened value prints exactly as the live
# one did (12.7449 prints 12.7 live, but was saved as 12.74 -> 12.7; 12.7451 -> 12.75 -> 12.8 both)
SAVED_DECIMALS = 2

# how a unit follows a number ("2.4°", "1.3 cm", "3.0 %"), and what a % is a percentage of
_SUFFIX = {UNIT_DEG: "°", UNIT_CM: " cm", UNIT_PCT_SHOULDER: " %", UNIT_PCT_EAR_ANKLE: " %"}
_OF = {UNIT_PCT_SHOULDER: " of shoulder width", UNIT_PCT_EAR_ANKLE: " of the ear-to-ankle height"}


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def format_number(value: float | None, unit: str = "", *, signed: bool = True, digits: int = 1) -> str:
    """A number with its unit suffix: '+2.4°', '1.3 cm', '0.0 %'; '-' when missing."""
    if value is None or not math.isfinite(value):
        return "-"
    if digits < SAVED_DECIMALS:
        value = round(value, SAVED_DECIMALS)
    if abs(value) < LEVEL_CUTOFF and digits == 1:
        text = "0.0"
    else:
        text = f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"
        if float(text) == 0:
            text = text.lstrip("+-")
    return text + _SUFFIX.get(unit, f" {unit}" if unit else "")


def format_value(value: float | None, unit: str, uncertainty: float | None, *,
                 signed: bool = True) -> str:
    """Value ± its 95% uncertainty in one style for every surface (see the module docstring)."""
    if not _finite(value):
        return UNAVAILABLE
    assert value is not None
    text = format_number(value, unit, signed=signed)
    if _finite(uncertainty):
        text += f" ± {format_number(uncertainty, unit, signed=False)}"
    return text + _OF.get(unit, "")
