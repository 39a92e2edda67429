"""Bytes or a path -> :class:`Photo`: RGB uint8, EXIF orientation applied, metadata dropped.

Large photos are decoded at a reduced size where the format allows it (JPEG DCT scaling) and
otherwise downscaled after decoding, so that the array given to the model never exceeds
``LoadOptions.max_working_side``. Every coordinate the package reports is nevertheless in pixels of
the full-size oriented photo: :attr:`Photo.scale` converts between the two.

One job: decoding at the edge. Its place in the layers: the bottom, beside ``posture.pose``; it
imports only ``posture.errors`` (and Pillow), and the analysis, app and CLI hand it the user's file.
A photo's bytes and metadata are never logged.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from pillow_heif import register_heif_opener

from posture.errors import (
    CorruptImageError,
    EmptyFileError,
    ImageTooLargeError,
    ImageTooSmallError,
    UnsupportedFormatError,
)

register_heif_opener()  # HEIC/HEIF from iPhones

ACCEPTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "HEIF", "BMP", "TIFF", "GIF"})
_EIGHT_BIT_MAX = 255
_SIXTEEN_BIT_MAX = 65535
# Pillow's resize(reducing_gap=...): reduce by the largest integer factor that keeps at least this
# many times the target size, then filter; 1.0 = the largest factor, so the two-pass box filter
# runs on an image barely larger than its result.
_REDUCING_GAP = 1.0
ACCEPTED_EXTENSIONS = ("jpg", "jpeg", "png", "webp", "heic", "heif", "bmp", "tif", "tiff", "gif")


@dataclass(frozen=True)
class LoadOptions:
    # A decompression bomb guard: 100 MP is 2x the largest phone sensor (48-50 MP). Checked from the
    # header (before any pixel is decoded) against the size the file declares.
    max_pixels: int = 100_000_000
    # The shorter side's floor: below it there is no body to measure at all. (A whole standing body
    # needs a few hundred pixels of height for measurements worth having; a photo between the two
    # loads, and the analysis says what it cannot measure.)
    min_side: int = 64
    # Files larger than this are refused before decoding (a 48 MP HEIC/JPEG is ~15-25 MB).
    max_bytes: int = 60 * 1024 * 1024
    # The working copy's long side. The pose model reads a 256 px crop of the person, so 2048 px
    # keeps a person who fills a third of a wide frame well above that resolution.
    max_working_side: int = 2048


# Pillow's decompression-bomb guard, set explicitly to the documented limit (its default warns at
# 89.5 MP, which refused photos between that and 100 MP): Pillow now warns above 100 MP (ignored:
# LoadOptions.max_pixels is checked from the header with the real size in the message) and refuses
# outright above 200 MP, a backstop for any caller's larger max_pixels.
Image.MAX_IMAGE_PIXELS = LoadOptions().max_pixels


@dataclass(frozen=True)
class Photo:
    """A decoded photo. ``rgb`` is the working copy; ``width``/``height`` the full oriented size."""

    rgb: np.ndarray = field(repr=False)
    width: int
    height: int
    sha256: str
    source_format: str
    notes: tuple[str, ...] = ()

    @property
    def scale(self) -> float:
        """Working-copy pixels per full-size pixel (1.0 when not reduced)."""
        return float(self.rgb.shape[1]) / self.width

    def image_info(self) -> dict[str, object]:
        return {"width": self.width, "height": self.height, "sha256": self.sha256}

    @classmethod
    def from_array(cls, rgb: np.ndarray, name: str = "array") -> Photo:
        """Wrap an RGB uint8 array (tests, transformed copies). The hash is of the pixels."""
        arr = np.ascontiguousarray(rgb)
        if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
            raise UnsupportedFormatError("The image must be an RGB uint8 array of shape (H, W, 3).")
        h, w = arr.shape[:2]
        _check_min_side(w, h, LoadOptions().min_side)
        digest = hashlib.sha256(arr.tobytes()).hexdigest()
        return cls(rgb=arr, width=w, height=h, sha256=digest, source_format=name)


def load_photo(source: bytes | str | Path, options: LoadOptions | None = None) -> Photo:
    """Decode ``source`` (file bytes or a path) into a :class:`Photo`.

    Raises an :class:`~posture.errors.ImageError` subclass with a clear message for anything that
    is not a usable photo. EXIF, GPS and every other metadata block are dropped here.
    """
    opts = options or LoadOptions()
    data = _read(source, opts)
    digest = hashlib.sha256(data).hexdigest()
    notes: list[str] = []
    with warnings.catch_warnings():
        # Pillow warns above its own MAX_IMAGE_PIXELS; the limit is ours (checked below with the
        # real size in the message), so the warning is not an error here
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            im = Image.open(io.BytesIO(data))
        except UnidentifiedImageError:
            raise UnsupportedFormatError("This file is not an image posture can read.") from None
        except Image.DecompressionBombError:
            raise _bomb_error(opts) from None
        except (OSError, ValueError, SyntaxError) as exc:
            raise CorruptImageError(f"The image could not be opened ({_short(exc)}).") from None
        fmt = (im.format or "").upper()
        if fmt not in ACCEPTED_FORMATS:
            raise UnsupportedFormatError(f"{fmt or 'This'} images are not supported.")
        w0, h0 = im.size
        if w0 * h0 > opts.max_pixels:
            raise ImageTooLargeError(
                f"The image is {w0}x{h0} pixels ({w0 * h0 / 1e6:.0f} megapixels), above the "
                f"{opts.max_pixels / 1e6:.0f} megapixel limit."
            )
        _check_min_side(w0, h0, opts.min_side)
        if getattr(im, "n_frames", 1) > 1:
            notes.append("The file holds several frames (animation); the first frame was analysed.")
        try:
            if fmt == "JPEG" and max(w0, h0) > opts.max_working_side:
                # DCT-domain downscale: decode at 1/2, 1/4 or 1/8 without reading every pixel.
                # Pillow picks the smallest scale whose result is at least the requested size, so
                # ask for the size of the largest power-of-two reduction that fits.
                k = 1
                while max(w0, h0) > opts.max_working_side * k and k < 8:
                    k *= 2
                im.draft("RGB", (-(-w0 // k), -(-h0 // k)))
            im.load()  # first, so that a damaged file fails here and not inside getexif()
            # Pillow's TIFF decoder applies the orientation tag itself while loading
            orientation = None if fmt == "TIFF" else _exif_orientation(im)
            # the full-size oriented photo: JPEG's header size (it may be decoded reduced), else as decoded
            base_w, base_h = (w0, h0) if fmt == "JPEG" else im.size
            full_w, full_h = (base_h, base_w) if orientation in (5, 6, 7, 8) else (base_w, base_h)
            # Bounded work per upload: shrink to the working size in the decoded mode FIRST, so that
            # no full-size converted copy (16-bit rescale, RGB, alpha composite) is ever made.
            rgb_img = _to_rgb(_shrink(im, opts.max_working_side), notes)
            if orientation not in (None, 1):
                rgb_img = _apply_orientation(rgb_img, orientation)
        except Image.DecompressionBombError:
            raise _bomb_error(opts) from None
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise CorruptImageError(f"The image data is damaged or incomplete ({_short(exc)}).") from None
    if max(rgb_img.size) > opts.max_working_side:
        rgb_img = rgb_img.resize(_fit(rgb_img.size, opts.max_working_side), Image.Resampling.BOX)
    arr = np.asarray(rgb_img, dtype=np.uint8)
    return Photo(
        rgb=np.ascontiguousarray(arr),
        width=full_w,
        height=full_h,
        sha256=digest,
        source_format=fmt,
        notes=tuple(notes),
    )


def _check_min_side(w: int, h: int, min_side: int) -> None:
    if min(w, h) < min_side:
        raise ImageTooSmallError(
            f"The image is only {w}x{h} pixels; its shorter side needs at least {min_side} pixels.",
            "Use a larger photo showing the whole body.",
        )


def _bomb_error(opts: LoadOptions) -> ImageTooLargeError:
    """Pillow's own guard fired (at twice :data:`PIL.Image.MAX_IMAGE_PIXELS`)."""
    pillow_limit = 2 * int(Image.MAX_IMAGE_PIXELS or opts.max_pixels)
    return ImageTooLargeError(
        f"The image claims more than {pillow_limit / 1e6:.0f} megapixels, above the "
        f"{opts.max_pixels / 1e6:.0f} megapixel limit."
    )


def _read(source: bytes | str | Path, opts: LoadOptions) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise EmptyFileError(f"No file at {path}.", "Check the path and try again.")
        if path.stat().st_size > opts.max_bytes:
            raise ImageTooLargeError(f"The file is larger than {opts.max_bytes // 2**20} MB.")
        data = path.read_bytes()
    if not data:
        raise EmptyFileError("The file is empty.")
    if len(data) > opts.max_bytes:
        raise ImageTooLargeError(f"The file is larger than {opts.max_bytes // 2**20} MB.")
    return data


def _fit(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    w, h = size
    s = max_side / max(w, h)
    return max(1, round(w * s)), max(1, round(h * s))


def _exif_orientation(im: Image.Image) -> int | None:
    try:
        value = im.getexif().get(0x0112)
    except Exception:  # malformed EXIF must not stop the photo from loading
        return None
    return int(value) if isinstance(value, int) and 1 <= value <= 8 else None


def _apply_orientation(im: Image.Image, orientation: int) -> Image.Image:
    method = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }[orientation]
    return im.transpose(method)


def _shrink(im: Image.Image, max_side: int) -> Image.Image:
    """``im`` box-filtered down to fit ``max_side``, in its own mode (16-bit stays 16-bit, alpha is
    premultiplied by Pillow while filtering). Palette and 1-bit images are converted first, since
    Pillow resizes those by nearest neighbour only."""
    if max(im.size) <= max_side:
        return im
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif im.mode == "1":
        im = im.convert("L")
    # reducing_gap: an integer box reduce first (one pass, no full-height intermediate), then the
    # box filter to the exact size; Pillow cannot reduce its 16-bit modes (2 bytes a pixel anyway)
    gap = None if im.mode.startswith("I;16") else _REDUCING_GAP
    return im.resize(_fit(im.size, max_side), Image.Resampling.BOX, reducing_gap=gap)


def _to_rgb(im: Image.Image, notes: list[str]) -> Image.Image:
    """Any mode -> 8-bit RGB. Transparency is flattened on white; 16-bit is rescaled.

    Called on the working-size image (:func:`_shrink` first); the 16-bit rescale is integer
    arithmetic (no float copy)."""
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(im)
        # true 16-bit data spans 0..65535; some writers store 8-bit values in a 16-bit container
        hi = _SIXTEEN_BIT_MAX if int(arr.max()) > _EIGHT_BIT_MAX else _EIGHT_BIT_MAX
        wide = np.clip(arr, 0, hi).astype(np.uint32)
        # round(v / hi * 255) exactly, in integers
        im = Image.fromarray(((wide * _EIGHT_BIT_MAX + hi // 2) // hi).astype(np.uint8), "L")
        notes.append("A 16-bit image was converted to 8 bits.")
    elif mode == "F":
        arr = np.asarray(im, dtype=np.float64)
        rng = float(arr.max() - arr.min()) or 1.0
        im = Image.fromarray(((arr - arr.min()) / rng * 255.0).astype(np.uint8), "L")
    if mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(background, rgba)
    # RGB, L, 1, CMYK, YCbCr, P without transparency...: Pillow's own conversion
    return im if im.mode == "RGB" else im.convert("RGB")


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]
