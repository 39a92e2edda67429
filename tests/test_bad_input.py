"""Table-driven bad and odd input: each case gives its documented error or warning, fast."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from posture import errors
from posture.analysis import AnalysisOptions, analyze
from posture.imaging import load_photo
from posture.pose import PoseModel
from tests.conftest import FRONT, encode, rgb_of

NO_LEVEL = AnalysisOptions(auto_level=False)


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge size (a decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    body = struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    idat = zlib.compress(b"\x00" * 64)
    chunk2 = b"IDAT" + idat
    body += struct.pack(">I", len(idat)) + chunk2 + struct.pack(">I", zlib.crc32(chunk2))
    return b"\x89PNG\r\n\x1a\n" + body


def _front_bytes(fmt: str = "JPEG", mode: str = "RGB", **kw: object) -> bytes:
    im = Image.fromarray(rgb_of(FRONT)).convert(mode)
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _sixteen_bit_png() -> bytes:
    gray = np.asarray(Image.fromarray(rgb_of(FRONT)).convert("L"), dtype=np.uint16) * 257
    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, format="PNG")
    return buf.getvalue()


def _heic() -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    return _front_bytes("HEIF", quality=90)


def _rgba_png() -> bytes:
    rgba = np.dstack([rgb_of(FRONT), np.full(rgb_of(FRONT).shape[:2], 255, np.uint8)])
    rgba[:40, :40, 3] = 0  # a transparent corner
    return encode(rgba, "PNG")


def _two_people() -> bytes:
    rgb = rgb_of(FRONT)
    return encode(np.hstack([rgb, rgb]))


def _waist_cut() -> bytes:
    rgb = rgb_of(FRONT)
    return encode(rgb[: int(rgb.shape[0] * 0.42)])


def _no_person() -> bytes:
    rng = np.random.default_rng(0)
    _, x = np.mgrid[0:480, 0:640]
    wall = (120 + 40 * np.sin(x / 50.0) + rng.normal(0, 6, (480, 640))).clip(0, 255)
    return encode(np.dstack([wall, wall * 0.9, wall * 0.8]).astype(np.uint8))


# (name, bytes factory, expected error class or None for success, warning fragment or measurement
#  that must be unavailable)
CASES: list[tuple[str, Callable[[], bytes], type[Exception] | None, str | None]] = [
    ("empty file", lambda: b"", errors.EmptyFileError, None),
    ("text renamed .jpg", lambda: b"hello, this is not a photo\n" * 20, errors.UnsupportedFormatError, None),
    ("truncated JPEG", lambda: _front_bytes()[:3000], errors.CorruptImageError, None),
    ("1x1 image", lambda: encode(np.zeros((1, 1, 3), np.uint8), "PNG"), errors.ImageTooSmallError, None),
    ("PNG claiming 100000x100000", lambda: _png_claiming(100_000, 100_000), errors.ImageTooLargeError, None),
    ("no person", _no_person, errors.NoPersonError, None),
    ("two people", _two_people, errors.MultiplePeopleError, None),
    ("cut at the waist", _waist_cut, None, "unavailable:hip_tilt"),
    ("HEIC", _heic, None, None),
    ("PNG with alpha", _rgba_png, None, None),
    ("grayscale", lambda: _front_bytes("JPEG", "L"), None, None),
    ("CMYK JPEG", lambda: _front_bytes("JPEG", "CMYK"), None, None),
    ("16-bit PNG", lambda: _sixteen_bit_png(), None, "16-bit"),
    ("palette GIF", lambda: _front_bytes("GIF", "P"), None, None),
]


@pytest.mark.parametrize(("name", "make", "error", "expect"), CASES, ids=[c[0] for c in CASES])
def test_bad_input(
    model: PoseModel,
    name: str,
    make: Callable[[], bytes],
    error: type[Exception] | None,
    expect: str | None,
) -> None:
    data = make()
    start = time.perf_counter()
    if error is not None:
        with pytest.raises(error) as info:
            analyze(load_photo(data), "anterior", NO_LEVEL, model=model)
        text = str(info.value)
        assert isinstance(info.value, errors.PostureError)
        assert "\n" not in text and len(text) > 20  # one clear line with what to do
    else:
        a = analyze(load_photo(data), "anterior", NO_LEVEL, model=model)
        if expect and expect.startswith("unavailable:"):
            m = a.measurements[expect.split(":", 1)[1]]
            assert not m.available and m.reason
            assert a.measurements["shoulder_tilt"].available
            assert any("unavailable" in w for w in a.warnings)
        elif expect:
            assert any(expect in w for w in a.warnings)
        else:
            assert a.measurements["shoulder_tilt"].available
    assert time.perf_counter() - start < 10.0


@pytest.mark.parametrize(
    ("name", "payload"),
    [("empty", b""), ("text", b"not an image at all"), ("bomb", _png_claiming(100_000, 100_000))],
)
def test_cli_bad_input_exit_2_without_traceback(tmp_path: Path, name: str, payload: bytes) -> None:
    bad = tmp_path / f"{name}.jpg"
    bad.write_bytes(payload)
    proc = subprocess.run(
        [sys.executable, "-m", "posture.cli", "analyze", str(bad), "--json"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("posture: ")


def test_a_damaged_photo_is_named_once_and_the_fix_follows() -> None:
    """The message says what is wrong once and then what to do (it used to say "damaged or
    incomplete" twice)."""

    with pytest.raises(errors.CorruptImageError) as info:
        load_photo(_front_bytes()[:3000])
    text = str(info.value)
    assert text.lower().count("damaged") == 1
    assert text.endswith(errors.CorruptImageError.default_hint)
    assert "export or copy the photo again" in text.lower()
