"""Issue 14's smaller items, each with its test: the megapixel limit is the documented one, the
too-small message states the rule that is applied, ``analyze --annotate`` on a folder never
overwrites one photo's drawing with another's, the bundled model is hashed once per file, and a
failed analysis logs its traceback (never a photo, a name or a note)."""

from __future__ import annotations

import io
import logging
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from posture import errors, pose
from posture.imaging import LoadOptions, Photo, load_photo
from tests.conftest import FRONT, ROOT

# -- the megapixel limit ---------------------------------------------------------------------------


def solid_png(width: int, height: int, rgb: tuple[int, int, int] = (182, 160, 141)) -> bytes:
    """A valid solid-colour RGB PNG of any size in a few hundred KB and a few ms: one deflate block
    of rows made once, flushed so it stands alone, repeated, then an empty final block."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\x00" + bytes(rgb) * width  # filter byte 0, then the pixels
    rows_per_block = 64
    block = row * rows_per_block
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    part = raw.compress(block) + raw.flush(zlib.Z_FULL_FLUSH)
    n, rest = divmod(height, rows_per_block)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    last = tail.compress(row * rest) + tail.flush()  # the final block (possibly empty)
    adler = 1
    for _ in range(n):
        adler = zlib.adler32(block, adler)
    adler = zlib.adler32(row * rest, adler)
    idat = b"\x78\xda" + part * n + last + struct.pack(">I", adler)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_the_png_generator_makes_real_pngs() -> None:
    with Image.open(io.BytesIO(solid_png(300, 130))) as im:
        arr = np.asarray(im)
    assert arr.shape == (130, 300, 3) and (arr == (182, 160, 141)).all()


MEMORY_PROBE = """
import resource, sys
from posture.imaging import load_photo
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
photo = load_photo(data)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(photo.width, photo.height, photo.rgb.shape[1], photo.rgb.shape[0], (after - before) * 1024)
"""


def test_a_95_megapixel_png_is_accepted_with_sane_memory(tmp_path: Path) -> None:
    w, h = 9500, 10000  # 95 MP: above Pillow's default 89.5 MP warning, below the documented 100 MP
    path = tmp_path / "95mp.png"
    path.write_bytes(solid_png(w, h))
    assert path.stat().st_size < 2_000_000
    # its own interpreter, so that its peak memory is its own
    out = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(path)], cwd=str(ROOT),
                         capture_output=True, text=True, timeout=300, check=True).stdout.split()
    full_w, full_h, work_w, work_h, grown = map(int, out)
    assert (full_w, full_h) == (w, h)
    assert max(work_w, work_h) == LoadOptions().max_working_side
    decoded = w * h * 3  # the RGB image Pillow must hold once
    assert grown < 2 * decoded, f"loading grew the process by {grown / 2**20:.0f} MiB"


def test_above_the_limit_the_message_gives_the_real_size() -> None:
    with pytest.raises(errors.ImageTooLargeError) as too_big:
        load_photo(solid_png(10_050, 10_000))  # 100.5 MP: refused from the header
    assert "10050x10000 pixels (100 megapixels), above the 100 megapixel limit" in str(too_big.value)
    # far above: Pillow's own guard (twice the limit) refuses before our check, still one clear error
    ok = solid_png(64, 64)
    header = struct.pack(">IIBBBBB", 20_000, 20_000, 8, 2, 0, 0, 0)  # 400 MP declared
    ihdr = struct.pack(">I", 13) + b"IHDR" + header + struct.pack(">I", zlib.crc32(b"IHDR" + header))
    bomb = ok[:8] + ihdr + ok[8 + len(ihdr):]  # a 64x64 image's data under a 400 MP header
    with pytest.raises(errors.ImageTooLargeError, match="more than 200 megapixels"):
        load_photo(bomb)


# -- too small: the message states the rule ----------------------------------------------------------


def test_too_small_says_the_limit_that_is_applied() -> None:
    side = LoadOptions().min_side
    ok = load_photo(solid_png(side, 5 * side))
    assert (ok.width, ok.height) == (side, 5 * side)  # exactly the limit is accepted
    with pytest.raises(errors.ImageTooSmallError) as small:
        load_photo(solid_png(side - 1, 5 * side))
    text = str(small.value)
    assert f"{side - 1}x{5 * side}" in text and f"at least {side} pixels" in text
    assert "200" not in text  # the old hint asked for a size the rule never required
    with pytest.raises(errors.ImageTooSmallError, match=f"at least {side} pixels"):
        Photo.from_array(np.zeros((side - 1, 300, 3), np.uint8))
    assert "200" not in errors.ImageTooSmallError.default_hint


# -- the bundled model is hashed once per file ------------------------------------------------------


def test_the_model_is_hashed_once_per_file_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "pose_landmarker_full.task"
    shutil.copyfile(pose.BUNDLED_MODEL, copy)
    monkeypatch.setattr(pose, "BUNDLED_MODEL", copy)
    monkeypatch.setattr(pose, "_verified_models", set())
    monkeypatch.delenv(pose.MODEL_ENV, raising=False)
    hashed: list[int] = []
    real = pose.hashlib.sha256

    def counting(data: bytes = b"") -> Any:
        hashed.append(len(data))
        return real(data)

    monkeypatch.setattr(pose.hashlib, "sha256", counting)
    for _ in range(5):
        assert pose.resolve_model_path() == copy
    assert len(hashed) == 1 and hashed[0] == copy.stat().st_size
    # the same file rewritten (same size, new content): checked again, and refused
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(errors.ModelError, match="damaged"):
        pose.resolve_model_path()
    with pytest.raises(errors.ModelError, match="damaged"):  # a failed check is never cached
        pose.resolve_model_path()
    assert len(hashed) == 3


# -- a failed analysis logs its traceback ------------------------------------------------------------


def test_a_failure_is_logged_with_its_traceback_and_without_its_message(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_compare import synthetic_analysis
    from ui.components import report_bridge

    def broken_findings(*_a: Any, **_k: Any) -> Any:
        try:
            {}["Anna Example, notes: sore left hip"]  # data inside an error's text
        except KeyError as inner:
            raise ValueError("client Anna Example") from inner

    monkeypatch.setattr(report_bridge.findings, "attach_findings", broken_findings)
    caplog.set_level(logging.ERROR, logger="posture.app")
    _, note = report_bridge.attach_findings(synthetic_analysis())
    assert note == "The findings could not be worked out for this photo."
    (rec,) = [r for r in caplog.records if r.name == "posture.app"]
    text = rec.getMessage()
    assert text.startswith("findings failed: ValueError")
    # the traceback: both exceptions of the chain, with the frame that raised
    assert text.count("Traceback (most recent call last):") == 2
    assert "builtins.KeyError" in text and "builtins.ValueError" in text
    assert f'File "{__file__}"' in text and "in broken_findings" in text
    assert "Anna" not in caplog.text and "sore" not in caplog.text


# -- analyze --annotate on a folder: one drawing per photo -------------------------------------------


def test_annotate_names_are_unique_per_photo_file() -> None:
    from posture.cli.analyze import annotate_paths

    photos = [Path("a/x.jpg"), Path("a/x.png"), Path("b/x.jpg"), Path("b/X.JPG"), Path("a/y.jpeg")]
    names = {p: q.name for p, q in annotate_paths(Path("out/ann.png"), photos).items()}
    assert names == {Path("a/x.jpg"): "ann_x.jpg.png", Path("a/x.png"): "ann_x.png.png",
                     Path("b/x.jpg"): "ann_x.jpg-2.png", Path("b/X.JPG"): "ann_X.JPG-3.png",
                     Path("a/y.jpeg"): "ann_y.jpeg.png"}


def test_analyze_annotate_on_a_folder_keeps_both_x_jpg_and_x_png(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from posture.cli import main

    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copyfile(FRONT, folder / "x.jpg")
    with Image.open(FRONT) as im:  # the other photo: the same client mirrored, as a PNG
        im.convert("RGB").transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(folder / "x.png")
    out = tmp_path / "drawn" / "ann.png"
    out.parent.mkdir()
    assert main(["analyze", str(folder), "--fast", "--annotate", str(out)]) == 0
    capsys.readouterr()
    written = sorted(p.name for p in out.parent.iterdir())
    assert written == ["ann_x.jpg.png", "ann_x.png.png"]
    with Image.open(out.parent / "ann_x.jpg.png") as a, Image.open(out.parent / "ann_x.png.png") as b:
        drawn_jpg, drawn_png = np.asarray(a.convert("RGB")), np.asarray(b.convert("RGB"))
    # each drawing is of its own photo: the PNG's is (about) the mirror image of the JPEG's
    assert drawn_jpg.shape == drawn_png.shape
    mirrored = np.abs(drawn_jpg.astype(int) - drawn_png[:, ::-1].astype(int)).mean()
    same = np.abs(drawn_jpg.astype(int) - drawn_png.astype(int)).mean()
    assert mirrored < same
    with pytest.raises(SystemExit):  # the --help says how the files are named
        main(["analyze", "--help"])
    assert "OUT_x.jpg.png" in " ".join(capsys.readouterr().out.split())


# -- a failing PDF callable -------------------------------------------------------------------------


@pytest.mark.parametrize("failure", ["unexpected", "posture"])
def test_a_failing_report_pdf_downloads_a_clear_notice(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, failure: str
) -> None:
    from pypdf import PdfReader

    from tests.test_compare import synthetic_analysis
    from ui.components import report_bridge

    rgb = np.asarray(Image.open(FRONT).convert("RGB"))
    photo, analysis = Photo.from_array(rgb), synthetic_analysis()

    def broken(*_a: Any, **_k: Any) -> Any:
        if failure == "posture":
            raise errors.PostureError("The report needs a front or back view.", "Analyse it again.")
        raise UnicodeEncodeError("latin-1", "Client Zoë", 8, 9, "the client's name")

    monkeypatch.setattr(report_bridge, "build_report", broken)
    caplog.set_level(logging.ERROR, logger="posture.app")
    pdf = report_bridge.pdf_download(photo, analysis, client="Zoë Client")
    text = " ".join(" ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "could not be made" in text and "measurements on screen are unaffected" in text
    if failure == "posture":
        assert "needs a front or back view" in text
    else:
        assert "UnicodeEncodeError" in caplog.text and "Zo" not in caplog.text
    assert "Zoë" not in text
