"""posture: frontal-plane posture measurements from one standing photo.

Conventions (used everywhere in the package):

* Images are RGB ``uint8`` arrays of shape (H, W, 3).
* Coordinates are pixels of the photo as the person sees it (EXIF orientation applied), x to the
  right, y DOWN.
* Sides are the CLIENT's anatomical sides. In an anterior (front) view the client's right is on the
  image's left; in a posterior (back) view it is on the image's right.
* Angles are degrees. A tilt is signed: positive means the client's RIGHT side is lower. A shift is
  positive toward the client's right; a shortening is positive when the right side is shorter.
"""

from posture.errors import PostureError

__version__ = "0.1.0"

__all__ = ["PostureError", "__version__"]
