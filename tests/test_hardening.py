"""Hardening: a generated corpus of bad and odd input, the CLI on a subset, the LAN access password,
and a load test.

Every input is built here from the shipped sample photo or from scratch (no stored binaries). Each
case must end in a :class:`posture.errors.PostureError` subclass or an analysis carrying a warning,
quickly and without blowing up memory. A non-PostureError exception is a bug: such cases are marked
``xfail(strict=True)`` with the reason, so that they fail loudly once fixed.
"""

from __future__ import annotations

import io
import resource
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from posture import errors
from posture.analysis import Analysis, AnalysisOptions, analyze
from posture.imaging import load_photo
from posture.pose import PoseModel
from tests.conftest import BACK, FRONT, encode, rgb_of

QUICK = AnalysisOptions(auto_level=False)
TIME_LIMIT_S = 15.0
BOMB_MEMORY_LIMIT_MB = 500.0


# -- input makers ----------------------------------------------------------------------------------


def _front() -> np.ndarray:
    return rgb_of(FRONT)


def _save(im: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _front_as(fmt: str, mode: str = "RGB", **kw: object) -> bytes:
    return _save(Image.fromarray(_front()).convert(mode), fmt, **kw)


def _heic_bytes() -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    return _front_as("HEIF", quality=80)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_claiming(width: int, height: int) -> bytes:
    """A ~100-byte PNG whose IHDR claims ``width`` x ``height`` RGB pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat)
            + _png_chunk(b"IEND", b""))


def _jpeg_claiming(width: int, height: int) -> bytes:
    """A small valid JPEG whose SOF marker is patched to claim ``width`` x ``height``."""
    data = bytearray(encode(np.full((64, 64, 3), 128, np.uint8)))
    i = 2
    while i < len(data):
        assert data[i] == 0xFF
        marker = data[i + 1]
        seg_len = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):  # SOF: len(2) precision(1) height(2) width(2)
            data[i + 5 : i + 9] = struct.pack(">HH", height, width)
            return bytes(data)
        i += 2 + seg_len
    raise AssertionError("no SOF marker")


def _gif_claiming(width: int, height: int) -> bytes:
    """A small GIF whose logical screen and image descriptor both claim ``width`` x ``height``."""
    data = bytearray(_save(Image.new("P", (64, 64), 3), "GIF"))
    data[6:10] = struct.pack("<HH", width, height)
    j = data.index(b"\x2c", 13)  # image descriptor: 0x2C left(2) top(2) width(2) height(2)
    data[j + 5 : j + 9] = struct.pack("<HH", width, height)
    return bytes(data)


def _png_rgb16() -> bytes:
    """A true 16-bit-per-channel RGB PNG written by hand (Pillow cannot write one)."""
    rgb = _front().astype(">u2") * 257
    h, w = rgb.shape[:2]
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(raw))
            + _png_chunk(b"IEND", b""))


def _gray16_png() -> bytes:
    gray = np.asarray(Image.fromarray(_front()).convert("L"), dtype=np.uint16) * 257
    return _save(Image.fromarray(gray), "PNG")


def _animated(fmt: str) -> bytes:
    rgb = _front()
    frames = [Image.fromarray(rgb), Image.fromarray(255 - rgb), Image.fromarray(rgb[:, ::-1].copy())]
    return _save(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)


def _corrupt_middle(data: bytes, seed: int = 1, frac: float = 0.02) -> bytes:
    """Overwrite ``frac`` of the bytes in the middle half with random values."""
    rng = np.random.default_rng(seed)
    out = bytearray(data)
    n = len(out)
    idx = rng.integers(n // 4, 3 * n // 4, size=max(1, int(n * frac)))
    for i in idx:
        out[int(i)] = int(rng.integers(0, 256))
    return bytes(out)


def _malformed_exif_jpeg() -> bytes:
    """A JPEG with an APP1 Exif segment whose TIFF structure is garbage (bad IFD offsets)."""
    jpeg = encode(_front())
    body = b"Exif\x00\x00" + b"MM\x00\x2a\xff\xff\xff\xf0" + bytes(range(256)) * 2
    app1 = b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body
    return jpeg[:2] + app1 + jpeg[2:]


def _exif_orientation_garbage() -> bytes:
    """Orientation tag out of range (9) plus a non-numeric Make: must be ignored, not crash."""
    exif = Image.Exif()
    exif[0x0112] = 9
    exif[0x010F] = "\x00\xff garbage"
    return _save(Image.fromarray(_front()), "JPEG", exif=exif.tobytes())


def _noise() -> bytes:
    rng = np.random.default_rng(7)
    return encode(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8), "PNG")


def _gradient() -> bytes:
    y, x = np.mgrid[0:480, 0:640]
    g = np.dstack([x * 255 // 639, y * 255 // 479, (x + y) * 255 // 1118]).astype(np.uint8)
    return encode(g)


def _crowd() -> bytes:
    rgb = _front()
    return encode(np.vstack([np.hstack([rgb, rgb]), np.hstack([rgb, rgb])]))


def _photo_of_photo() -> bytes:
    """The sample photo printed small, in a dark frame, on a light wall."""
    rgb = _front()
    h, w = rgb.shape[:2]
    wall = np.full((h * 2, w * 2, 3), 205, np.uint8)
    wall[h // 2 : h // 2 + h, w // 2 : w // 2 + w] = 50  # the frame
    small = np.asarray(Image.fromarray(rgb).resize((w * 3 // 4, h * 3 // 4), Image.Resampling.LANCZOS))
    y0, x0 = h // 2 + h // 8, w // 2 + w // 8
    wall[y0 : y0 + small.shape[0], x0 : x0 + small.shape[1]] = small
    return encode(wall)


def _truncate(data: bytes, keep: float) -> bytes:
    return data[: int(len(data) * keep)]


# -- the corpus ------------------------------------------------------------------------------------

Expect = type[errors.PostureError] | str | None


@dataclass(frozen=True)
class Case:
    """``expect``: a PostureError subclass that must be raised; a string that must appear in one of
    the analysis warnings; ``"error-or-warning"`` for inputs where either a PostureError or an
    analysis with at least one warning is right; ``None`` = any PostureError or any analysis (the
    only requirement is no other exception)."""

    name: str
    make: Callable[[], bytes]
    expect: Expect
    view: str = "anterior"
    bomb: bool = False
    xfail: str | None = None


CASES: list[Case] = [
    Case("empty", lambda: b"", errors.EmptyFileError),
    Case("random bytes", lambda: np.random.default_rng(3).bytes(5000), errors.UnsupportedFormatError),
    Case("text as .jpg", lambda: b"just some notes, not a photo\n" * 50, errors.UnsupportedFormatError),
    Case("html as .png", lambda: b"<!doctype html><html><body>404</body></html>",
         errors.UnsupportedFormatError),
    Case("pdf bytes", lambda: b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
         errors.UnsupportedFormatError),
    Case("ICO format", lambda: _save(Image.fromarray(_front()).resize((128, 128)), "ICO"),
         errors.UnsupportedFormatError),
    Case("JPEG header only", lambda: encode(_front())[:200], errors.CorruptImageError),
    Case("truncated JPEG 30%", lambda: _truncate(encode(_front()), 0.3), errors.CorruptImageError),
    Case("corrupt JPEG scan", lambda: _corrupt_middle(encode(_front())), None),
    Case("truncated PNG", lambda: _truncate(encode(_front(), "PNG"), 0.5), errors.CorruptImageError),
    Case("corrupt PNG data", lambda: _corrupt_middle(encode(_front(), "PNG")), errors.CorruptImageError),
    Case("truncated HEIC", lambda: _truncate(_heic_bytes(), 0.5), errors.PostureError),
    Case("corrupt HEIC", lambda: _corrupt_middle(_heic_bytes(), frac=0.05), None),
    Case("valid HEIC", _heic_bytes, None),
    Case("PNG bomb 100000x100000", lambda: _png_claiming(100_000, 100_000), errors.ImageTooLargeError,
         bomb=True),
    Case("JPEG bomb 65000x65000", lambda: _jpeg_claiming(65_000, 65_000), errors.ImageTooLargeError,
         bomb=True),
    Case("GIF bomb 65535x65535", lambda: _gif_claiming(65_535, 65_535), errors.ImageTooLargeError,
         bomb=True),
    Case("PNG 12000x9000 (108 MP, under Pillow's bomb error)", lambda: _png_claiming(12_000, 9_000),
         errors.ImageTooLargeError, bomb=True),
    Case("animated GIF", lambda: _animated("GIF"), "frames"),
    Case("animated WebP", lambda: _animated("WEBP"), "frames"),
    Case("16-bit gray PNG", _gray16_png, "16-bit"),
    Case("16-bit RGB PNG", _png_rgb16, None),
    Case("CMYK JPEG", lambda: _front_as("JPEG", "CMYK"), None),
    Case("CMYK TIFF", lambda: _front_as("TIFF", "CMYK"), None),
    Case("palette PNG", lambda: _front_as("PNG", "P"), None),
    Case("palette PNG with transparency", lambda: _front_as("PNG", "P", transparency=0), None),
    Case("1-bit BMP", lambda: _front_as("BMP", "1"), None),
    Case("float TIFF", lambda: _save(
        Image.fromarray(np.asarray(Image.fromarray(_front()).convert("L"), np.float32) / 255.0), "TIFF"),
        None),
    Case("malformed EXIF", _malformed_exif_jpeg, None),
    Case("EXIF orientation 9 + garbage tag", _exif_orientation_garbage, None),
    Case("1x1", lambda: encode(np.zeros((1, 1, 3), np.uint8), "PNG"), errors.ImageTooSmallError),
    Case("20000x20", lambda: encode(np.full((20, 20_000, 3), 90, np.uint8), "PNG"),
         errors.ImageTooSmallError),
    Case("photo of a photo", _photo_of_photo, "fills only"),
    Case("no person: noise", _noise, errors.NoPersonError),
    Case("no person: gradient", _gradient, errors.NoPersonError),
    Case("crowd (sample tiled 2x2)", _crowd, errors.MultiplePeopleError),
    Case("back view declared anterior", lambda: BACK.read_bytes(), "declared an anterior"),
    Case("lying down (rotated 90)", lambda: encode(np.rot90(_front()).copy()),
         errors.NotUprightError),
    Case("upside down (rotated 180)", lambda: encode(np.rot90(_front(), 2).copy()),
         errors.NotUprightError),
]


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _params() -> list[object]:
    out: list[object] = []
    for c in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else []
        out.append(pytest.param(c, id=c.name, marks=marks))
    return out


def _run(case: Case, model: PoseModel) -> Analysis | errors.PostureError:
    try:
        return analyze(load_photo(case.make()), case.view, QUICK, model=model)
    except errors.PostureError as exc:
        return exc


@pytest.mark.parametrize("case", _params())
def test_corpus(model: PoseModel, case: Case) -> None:
    rss0 = _maxrss_mb()
    start = time.perf_counter()
    result = _run(case, model)  # any other exception fails the test with its traceback
    elapsed = time.perf_counter() - start
    assert elapsed < TIME_LIMIT_S, f"{case.name} took {elapsed:.1f} s"
    if case.bomb:
        growth = _maxrss_mb() - rss0
        assert growth < BOMB_MEMORY_LIMIT_MB, f"{case.name}: peak RSS grew {growth:.0f} MB"
    if isinstance(result, errors.PostureError):
        text = str(result)
        assert "\n" not in text and len(text) > 20, "one clear line with what to do"
        assert result.hint
    exp = case.expect
    if isinstance(exp, type):
        assert isinstance(result, exp), f"{case.name}: expected {exp.__name__}, got {result!r}"
    elif exp == "error-or-warning":
        assert isinstance(result, errors.PostureError) or result.warnings, (
            f"{case.name}: measured silently: "
            f"{ {k: m.value for k, m in result.measurements.items()} }"
        )
    elif isinstance(exp, str):
        assert isinstance(result, Analysis), f"{case.name}: expected a warning, got {result!r}"
        assert any(exp in w for w in result.warnings), result.warnings
    elif isinstance(result, Analysis):
        assert len(result.measurements) == 6
        assert result.image["width"] >= 64 and result.image["height"] >= 64


def test_corpus_size() -> None:
    assert len({c.name for c in CASES}) >= 30


def test_animated_uses_first_frame() -> None:
    """The first frame, not a blend or the last one, is what gets analysed."""
    first = load_photo(_animated("GIF"))
    alone = load_photo(_front_as("GIF"))
    diff = np.abs(first.rgb.astype(int) - alone.rgb.astype(int)).mean()
    assert diff < 3.0  # same palette quantisation up to dithering; the inverted frame would be ~100
    assert any("frames" in n for n in first.notes)


def test_sixteen_bit_rgb_keeps_the_picture() -> None:
    ph = load_photo(_png_rgb16())
    ref = _front()
    assert ph.rgb.shape == ref.shape
    assert np.abs(ph.rgb.astype(int) - ref.astype(int)).max() <= 1


# -- EXIF orientation ------------------------------------------------------------------------------

# the transpose that undoes each orientation when writing (inverse of what a viewer applies)
_STORE_AS = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def _asymmetric() -> np.ndarray:
    """120 wide x 90 tall, random pixels plus a marker block in the top-left: no symmetry."""
    rgb = np.random.default_rng(11).integers(0, 256, (90, 120, 3), dtype=np.uint8)
    rgb[:20, :30] = (255, 0, 0)
    return rgb


# TIFF: Pillow's own decoder applies the tag while loading, so it is tested with and without
# compression to make sure the orientation is applied exactly once.
FORMATS = ("PNG", "WEBP", "TIFF", "TIFF-lzw", "TIFF-deflate")


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("fmt", FORMATS)
def test_exif_orientation_gives_upright_copy(orientation: int, fmt: str) -> None:
    upright = _asymmetric()
    im = Image.fromarray(upright)
    method = _STORE_AS[orientation]
    stored = im.transpose(method) if method is not None else im
    exif = Image.Exif()
    exif[0x0112] = orientation
    extra: dict[str, object] = {"lossless": True} if fmt == "WEBP" else {}
    if fmt.startswith("TIFF-"):
        extra["compression"] = "tiff_" + fmt.split("-")[1]
    data = _save(stored, fmt.split("-")[0], exif=exif.tobytes(), **extra)
    ph = load_photo(data)
    assert (ph.width, ph.height) == (120, 90)
    np.testing.assert_array_equal(ph.rgb, upright)


def test_exif_orientation_jpeg_sample_upright(model: PoseModel) -> None:
    """A real photo stored sideways with orientation 6 measures like the upright photo."""
    rgb = _front()
    upright = encode(rgb, quality=95)
    exif = Image.Exif()
    exif[0x0112] = 6
    sideways = _save(Image.fromarray(rgb).transpose(Image.Transpose.ROTATE_90), "JPEG", quality=95,
                     exif=exif.tobytes())
    a = analyze(load_photo(upright), "anterior", QUICK, model=model)
    b = analyze(load_photo(sideways), "anterior", QUICK, model=model)
    assert (b.image["width"], b.image["height"]) == (rgb.shape[1], rgb.shape[0])
    for name in ("shoulder_tilt", "hip_tilt"):
        ma, mb = a.measurements[name], b.measurements[name]
        assert ma.value is not None and mb.value is not None
        assert abs(ma.value - mb.value) < 1.0


# -- the CLI on a subset ---------------------------------------------------------------------------

CLI_CASES = ["empty", "random bytes", "truncated JPEG 30%", "PNG bomb 100000x100000",
             "JPEG bomb 65000x65000", "1x1", "no person: noise", "crowd (sample tiled 2x2)"]


@pytest.mark.parametrize("name", CLI_CASES)
def test_cli_bad_input(tmp_path: Path, name: str) -> None:
    case = next(c for c in CASES if c.name == name)
    path = tmp_path / "photo.jpg"
    path.write_bytes(case.make())
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "posture.cli", "analyze", str(path), "--json", "--no-level"],
        capture_output=True, text=True, timeout=120,
    )
    assert time.perf_counter() - start < 60
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("posture: ")
    assert "unexpected error" not in lines[0]


# -- LAN access password (ui/auth.py) ---------------------------------------------------------------


def _gate_script() -> None:
    import streamlit as st

    from ui.components.auth import require_access

    if require_access():
        st.write("inside")


def _texts(at: object) -> list[str]:
    return [str(m.value) for m in at.markdown]  # type: ignore[attr-defined]


def test_access_open_without_password(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.delenv("POSTURE_ACCESS_PASSWORD", raising=False)
    at = AppTest.from_function(_gate_script).run(timeout=30)
    assert not at.exception
    assert "inside" in _texts(at)
    assert len(at.text_input) == 0


def test_access_password_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("POSTURE_ACCESS_PASSWORD", "kørsel-42")
    at = AppTest.from_function(_gate_script).run(timeout=30)
    assert not at.exception
    assert "inside" not in _texts(at)
    assert len(at.text_input) == 1

    at.text_input[0].input("kørsel-41")
    at.button[0].click().run(timeout=30)
    assert not at.exception
    assert "inside" not in _texts(at)
    assert len(at.error) == 1
    err = str(at.error[0].value)
    assert "kørsel" not in err and "42" not in err and "41" not in err  # reveals nothing

    at.text_input[0].input("kørsel-42")
    at.button[0].click().run(timeout=30)
    assert not at.exception
    assert "inside" in _texts(at)
    assert len(at.error) == 0
    # remembered for the session: a plain rerun stays inside
    at.run(timeout=30)
    assert "inside" in _texts(at)


def test_access_password_from_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.delenv("POSTURE_ACCESS_PASSWORD", raising=False)
    at = AppTest.from_function(_gate_script)
    at.secrets["access_password"] = "s3cret"
    at.run(timeout=30)
    assert "inside" not in _texts(at)
    at.text_input[0].input("s3cret")
    at.button[0].click().run(timeout=30)
    assert "inside" in _texts(at)


def test_password_comparison() -> None:
    from ui.components.auth import password_matches

    assert password_matches("äbc", "äbc")
    assert not password_matches("abc", "äbc")
    assert not password_matches("", "x")


# -- load ------------------------------------------------------------------------------------------

LOAD_RUNS = 300
LOAD_WARMUP = 30
LOAD_RSS_LIMIT_MB = 50.0


@pytest.mark.slow
def test_many_analyses_no_leak_no_reload(monkeypatch: pytest.MonkeyPatch) -> None:
    from posture import pose

    inits = {"n": 0}
    original_init = pose.PoseModel.__init__

    def counting_init(self: PoseModel, *a: object, **kw: object) -> None:
        inits["n"] += 1
        original_init(self, *a, **kw)  # type: ignore[arg-type]

    model = pose.shared_model()  # loaded (or already loaded) before counting starts
    monkeypatch.setattr(pose.PoseModel, "__init__", counting_init)
    rgb = np.asarray(Image.fromarray(_front()).resize((240, 400)))
    photo_bytes = encode(rgb)
    opts = AnalysisOptions(refine=False, auto_level=False)
    for _ in range(LOAD_WARMUP):
        analyze(load_photo(photo_bytes), "anterior", opts)
    rss0 = _maxrss_mb()
    start = time.perf_counter()
    for _ in range(LOAD_RUNS):
        a = analyze(load_photo(photo_bytes), "anterior", opts)
        assert a.measurements["shoulder_tilt"].available
    elapsed = time.perf_counter() - start
    growth = _maxrss_mb() - rss0
    assert pose.shared_model() is model
    assert inits["n"] == 0, "the pose model was reloaded"
    assert growth <= LOAD_RSS_LIMIT_MB, f"peak RSS grew {growth:.1f} MB over {LOAD_RUNS} analyses"
    assert elapsed < 120, f"{LOAD_RUNS} analyses took {elapsed:.0f} s"
