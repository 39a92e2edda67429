"""Bounded work per upload (issue 16): large 16-bit and wide photos are shrunk in their decoded mode
before any conversion, so decoding costs about the decoded image itself, never float64 copies of it;
and the result is the same photo as its 8-bit twin, in full-size coordinates."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from posture.imaging import LoadOptions, load_photo

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT / "sample_images" / "yogait_tada3.jpg"
# Peak memory added by load_photo: at most this multiple of the decoded image's own bytes plus a
# fixed allowance for buffers that do not grow with the image (the zlib stream, Pillow's arena, the
# working copy). The float64 path of old took ~3 full-size float64 copies: > 12x for 16-bit.
MAX_PEAK_OVER_DECODED = 2.0
FIXED_ALLOWANCE_BYTES = 64 * 2**20


def _enlarged(factor: int) -> Image.Image:
    im = Image.open(PHOTO).convert("RGB")
    return im.resize((im.width * factor, im.height * factor), Image.Resampling.NEAREST)


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def test_large_16_bit_gray_equals_its_8_bit_twin() -> None:
    gray8 = np.asarray(_enlarged(4).convert("L"))  # 1652 x 2736: above the 2048 working side
    assert max(gray8.shape) > LoadOptions().max_working_side
    sixteen = Image.fromarray(gray8.astype(np.uint16) * 257)  # the same values on 0..65535
    assert sixteen.mode == "I;16"
    a, b = load_photo(_png(sixteen)), load_photo(_png(Image.fromarray(gray8, "L")))
    assert (a.width, a.height) == (b.width, b.height) == (gray8.shape[1], gray8.shape[0])
    assert a.rgb.shape == b.rgb.shape and max(a.rgb.shape[:2]) == LoadOptions().max_working_side
    assert np.abs(a.rgb.astype(int) - b.rgb.astype(int)).max() <= 1
    assert any("16-bit" in n for n in a.notes)


def test_large_rgba_is_flattened_on_white_like_before() -> None:
    rgb = _enlarged(4)
    rgba = rgb.convert("RGBA")
    alpha = np.full((rgba.height, rgba.width), 255, np.uint8)
    alpha[:, : rgba.width // 4] = 0  # the left quarter transparent: must come out white
    rgba.putalpha(Image.fromarray(alpha))
    photo = load_photo(_png(rgba))
    assert (photo.width, photo.height) == rgba.size
    left = photo.rgb[:, : photo.rgb.shape[1] // 4 - 2]
    assert left.min() >= 254
    plain = load_photo(_png(rgb))
    right = slice(photo.rgb.shape[1] // 4 + 2, None)
    assert np.abs(photo.rgb[:, right].astype(int) - plain.rgb[:, right].astype(int)).max() <= 2


_PEAK_CHILD = r"""
import json, sys
from pathlib import Path
from posture.imaging import load_photo
data = Path(sys.argv[1]).read_bytes()
def kb(key):
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith(key))
before = kb("VmRSS")
open("/proc/self/clear_refs", "w").write("5")
photo = load_photo(data)
print(json.dumps({"added_kb": kb("VmHWM") - before, "w": photo.width, "shape": list(photo.rgb.shape)}))
"""


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="Linux peak-RSS reset needed")
@pytest.mark.parametrize("mode", ["I;16", "RGB"])
def test_decoding_a_big_photo_costs_about_the_decoded_image(tmp_path: Path, mode: str) -> None:
    side = 6000
    person = _enlarged(6)
    if mode == "I;16":
        canvas = np.full((side, side), 50_000, np.uint16)
        g = np.asarray(person.convert("L"), np.uint16) * 257
        canvas[: g.shape[0], : g.shape[1]] = g
        im = Image.fromarray(canvas)
        decoded_bytes = side * side * 2
    else:
        im = Image.new("RGB", (side, side), (200, 200, 200))
        im.paste(person, (0, 0))
        decoded_bytes = side * side * 4  # Pillow holds RGB as 4 bytes a pixel
    path = tmp_path / "big.png"
    im.save(path, "PNG", compress_level=1)
    del im
    res = subprocess.run([sys.executable, "-c", _PEAK_CHILD, str(path)], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    r = json.loads(res.stdout.strip().splitlines()[-1])
    assert r["w"] == side and max(r["shape"][:2]) == LoadOptions().max_working_side
    assert r["added_kb"] * 1024 <= MAX_PEAK_OVER_DECODED * decoded_bytes + FIXED_ALLOWANCE_BYTES, r
