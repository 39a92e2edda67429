"""The project's conventions, written once. Every module imports them from here.

Coordinates: pixels of the photo as the client sees it (EXIF orientation applied), x right, y DOWN;
images are RGB uint8 inside the package.

Sides are the CLIENT's anatomical sides. In an anterior (front) view the client's right is on the
image's left; in a posterior (back) view on the image's right.

Signs (every signed measurement):
  * a tilt (shoulder line, hip line, head) is positive when the client's RIGHT side is lower;
  * a shift (trunk, pelvis) is positive toward the client's RIGHT;
  * a side shortening is positive when the RIGHT side is shorter;
  * in a side view a value is positive toward the client's FRONT; a knee angle is positive when
    hyper-extended.

Uncertainty: every "±" is a 95% half-width, Z95 times a one-sigma figure.
"""

from __future__ import annotations

from typing import Final

#: two-sided 95% normal quantile: a "±" is Z95 x one standard deviation
Z95: Final = 1.96

#: a value whose magnitude is below this prints as 0.0 and reads as "level" / "centred" (the
#: resolution of the one-decimal display, so no "-0.0" and no side word for a printed zero)
LEVEL_CUTOFF: Final = 0.05

# units of Measurement.unit / Quantity.unit
UNIT_DEG: Final = "deg"
UNIT_CM: Final = "cm"
UNIT_PCT_SHOULDER: Final = "% shoulder width"
UNIT_PX: Final = "px"
#: side views without a scale: a horizontal offset as a % of the ear-to-ankle height
UNIT_PCT_EAR_ANKLE: Final = "% ear-ankle height"
