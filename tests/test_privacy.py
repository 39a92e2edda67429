"""Privacy: photos are health data and stay on the clinic's machine.

* no network at run time: the whole pipeline (model load, analysis, findings, annotated photo, PDF,
  store, export) runs with every non-loopback connection refused;
* EXIF and GPS never leave ``load_photo``: not in the annotated PNG, the PDF, the analysis JSON, the
  stored photo or the client export;
* neither the client's name nor the photo's bytes reach the logs or stderr.
"""

from __future__ import annotations

import base64
import codecs
import contextlib
import io
import ipaddress
import json
import logging
import socket
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from posture.analysis import Analysis, AnalysisOptions, analyze
from posture.findings import attach_findings
from posture.imaging import Photo, load_photo
from posture.pose import PoseModel
from posture.report import annotate, build_report
from posture.report.pdf import render_pdf
from posture.store import open_store
from tests.conftest import FRONT, rgb_of

CLIENT = "Zebediah Unique"
EXIF_MARKER = b"ZEBEXIFMARKER"
GPS_MARKER = b"ZEBGPSMARKER"
MAKE_MARKER = "ZebCamMaker9000"
QUICK = AnalysisOptions(auto_level=False)


# -- network guard ---------------------------------------------------------------------------------


class NetworkBlocked(OSError):
    pass


def _is_local(address: Any) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, bytes):
        host = host.decode()
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False  # a host name other than localhost would need a lookup: refuse it


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Refuse (and record) every connection to anything but loopback."""
    attempts: list[Any] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_create = socket.create_connection
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        if not _is_local(address):
            attempts.append(address)
            raise NetworkBlocked(f"network access blocked in tests: {address!r}")
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not _is_local(address):
            attempts.append(address)
            raise NetworkBlocked(f"network access blocked in tests: {address!r}")
        return real_connect_ex(self, address)

    def create_connection(address: Any, *a: Any, **kw: Any) -> socket.socket:
        if not _is_local(address):
            attempts.append(address)
            raise NetworkBlocked(f"network access blocked in tests: {address!r}")
        return real_create(address, *a, **kw)

    def getaddrinfo(host: Any, *a: Any, **kw: Any) -> Any:
        if host is not None and not _is_local((host, 0)):
            attempts.append(host)
            raise NetworkBlocked(f"name lookup blocked in tests: {host!r}")
        return real_getaddrinfo(host, *a, **kw)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield attempts


def test_network_guard_refuses_outside_and_allows_loopback(no_network: list[Any]) -> None:
    with pytest.raises(NetworkBlocked):
        socket.create_connection(("192.0.2.1", 80), timeout=1)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(NetworkBlocked):
            s.connect(("93.184.216.34", 443))
    finally:
        s.close()
    with pytest.raises(NetworkBlocked):
        socket.getaddrinfo("example.com", 443)
    # loopback still works (a listening socket on 127.0.0.1)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    try:
        c = socket.create_connection(srv.getsockname(), timeout=2)
        c.close()
    finally:
        srv.close()
    assert len(no_network) == 3


# -- the pipeline ----------------------------------------------------------------------------------


def _gps_jpeg() -> bytes:
    """The front sample as a camera JPEG with EXIF (make, description) and a GPS IFD."""
    exif = Image.Exif()
    exif[0x010E] = EXIF_MARKER.decode()  # ImageDescription
    exif[0x010F] = MAKE_MARKER  # Make
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (52.0, 31.0, 12.5)
    gps[3] = "E"
    gps[4] = (13.0, 24.0, 1.0)
    gps[0x1B] = b"ASCII\x00\x00\x00" + GPS_MARKER  # GPSProcessingMethod
    buf = io.BytesIO()
    Image.fromarray(rgb_of(FRONT)).save(buf, format="JPEG", quality=92, exif=exif.tobytes())
    data = buf.getvalue()
    # the input really carries what we then look for
    assert GPS_MARKER in data and EXIF_MARKER in data
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)
    return data


@dataclass
class Outputs:
    photo: Photo
    analysis: Analysis
    json_text: str
    annotated_png: bytes
    pdf: bytes
    stored_photo: bytes
    export_zip: bytes


def _pipeline(data: bytes, model: PoseModel, tmp_path: Path) -> Outputs:
    photo = load_photo(data)
    analysis = attach_findings(analyze(photo, "anterior", QUICK, model=model))
    assert analysis.findings, "the sample photo yields findings"
    annotated = annotate(photo, analysis)
    png = io.BytesIO()
    Image.fromarray(annotated).save(png, format="PNG")
    report = build_report(photo, analysis, client=CLIENT, notes="intake")
    pdf = render_pdf(report, annotated)
    with open_store(f"sqlite:///{tmp_path}/p.db") as store:
        cid = store.create_client(CLIENT, consent_given=True)
        aid = store.save_assessment(cid, photo, analysis)
        stored = store.get_photo_bytes(aid)
        export = store.export_client_zip(cid)
    return Outputs(photo, analysis, json.dumps(analysis.to_dict()), png.getvalue(), bytes(pdf),
                   stored, export)


def test_pipeline_runs_without_network(no_network: list[Any], model: PoseModel,
                                       tmp_path: Path) -> None:
    data = _gps_jpeg()
    out = _pipeline(data, model, tmp_path)
    # a model loaded while the network is blocked works too (the bundle is local)
    with PoseModel() as fresh:
        again = analyze(out.photo, "anterior", AnalysisOptions(auto_level=False, refine=False),
                        model=fresh)
    assert again.measurements["shoulder_tilt"].available
    assert out.pdf.startswith(b"%PDF") and len(out.pdf) > 10_000
    assert out.analysis.measurements["shoulder_tilt"].available
    assert no_network == [], f"the pipeline tried to reach {no_network}"


def _has_exif_or_gps(blob: bytes) -> list[str]:
    found = []
    for needle, what in ((b"Exif\x00\x00", "EXIF header"), (GPS_MARKER, "GPS text"),
                         (EXIF_MARKER, "EXIF description"), (MAKE_MARKER.encode(), "camera make")):
        if needle in blob:
            found.append(what)
    return found


def _image_has_no_metadata(blob: bytes, what: str) -> None:
    im = Image.open(io.BytesIO(blob))
    exif = im.getexif()
    assert len(exif) == 0, f"{what} carries EXIF {dict(exif)}"
    assert not exif.get_ifd(0x8825), f"{what} carries GPS"
    assert "exif" not in im.info, f"{what} carries an EXIF block"
    assert _has_exif_or_gps(blob) == [], what


def test_exif_and_gps_stripped_everywhere(model: PoseModel, tmp_path: Path) -> None:
    from pypdf import PdfReader

    out = _pipeline(_gps_jpeg(), model, tmp_path)
    _image_has_no_metadata(out.annotated_png, "annotated PNG")
    _image_has_no_metadata(out.stored_photo, "stored photo")

    assert _has_exif_or_gps(out.pdf) == [], "PDF"
    reader = PdfReader(io.BytesIO(out.pdf))
    n_images = 0
    for page in reader.pages:
        for img in page.images:
            n_images += 1
            assert _has_exif_or_gps(img.data) == []
            _image_has_no_metadata(img.data, f"PDF image {img.name}")
    assert n_images >= 1, "the PDF shows the photo"
    meta = " ".join(str(v) for v in (reader.metadata or {}).values())
    assert "GPS" not in meta and MAKE_MARKER not in meta

    text = out.json_text
    for word in ("GPS", "exif", "Exif", MAKE_MARKER, GPS_MARKER.decode(), EXIF_MARKER.decode(),
                 "52.0", "31.0, 12.5"):
        assert word not in text, f"analysis JSON mentions {word!r}"

    with zipfile.ZipFile(io.BytesIO(out.export_zip)) as z:
        names = z.namelist()
        assert any(n.endswith((".jpg", ".png")) for n in names)
        for name in names:
            blob = z.read(name)
            assert _has_exif_or_gps(blob) == [], f"export {name}"
            if name.endswith((".jpg", ".png")):
                _image_has_no_metadata(blob, f"export {name}")
            if name.endswith(".json"):
                assert "GPS" not in blob.decode("utf-8"), name


def _windows(data: bytes, size: int) -> set[bytes]:
    return {data[i : i + size] for i in range(0, len(data) - size + 1)}


def _leaks(haystack: bytes, windows: set[bytes], size: int) -> bool:
    return any(haystack[i : i + size] in windows for i in range(0, len(haystack) - size + 1))


def _views_of(text: str) -> list[bytes]:
    """The text as bytes in the forms photo bytes could take in a log line: raw (UTF-8 or Latin-1)
    and ``repr(bytes)`` with its ``\\xNN`` escapes decoded back."""
    out = [text.encode("utf-8", "surrogateescape"), text.encode("latin-1", "replace")]
    with contextlib.suppress(ValueError):
        out.append(codecs.escape_decode(text.encode("latin-1", "backslashreplace"))[0])
    return out


class LeakFinder:
    SIZE = 32

    def __init__(self, *blobs: bytes) -> None:
        self.windows: set[bytes] = set()
        self.b64: set[bytes] = set()
        for blob in blobs:
            self.windows |= _windows(blob, self.SIZE)
            self.b64 |= _windows(base64.b64encode(blob), 44)

    def leaks(self, text: str) -> bool:
        for hay in _views_of(text):
            if _leaks(hay, self.windows, self.SIZE) or _leaks(hay, self.b64, 44):
                return True
        return False


def test_leak_finder_catches_logged_bytes(caplog: pytest.LogCaptureFixture) -> None:
    """Positive control: the checks below do see photo bytes logged with %r, raw or as base64."""
    data = _gps_jpeg()
    finder = LeakFinder(data)
    log = logging.getLogger("posture.test")
    with caplog.at_level(logging.DEBUG):
        log.debug("photo %r", data[5000:5040])
    assert finder.leaks(caplog.text)
    assert finder.leaks(base64.b64encode(data[3000:3100]).decode())
    assert finder.leaks(data[7000:7040].decode("latin-1"))
    assert not finder.leaks(caplog.text.replace(repr(data[5000:5040]), "<bytes>"))


def test_no_client_name_or_photo_bytes_in_logs(model: PoseModel, tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture,
                                               capfd: pytest.CaptureFixture[str]) -> None:
    data = _gps_jpeg()
    caplog.set_level(logging.DEBUG)  # root at DEBUG: every posture.* logger included
    out = _pipeline(data, model, tmp_path)
    assert out.pdf and out.stored_photo
    captured = capfd.readouterr()
    logs = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    streams = {"logging": logs, "stderr": captured.err, "stdout": captured.out}
    assert caplog.records, "DEBUG logging was captured (e.g. alembic, PIL)"
    pixels = np.ascontiguousarray(out.photo.rgb).tobytes()[:200_000]
    finder = LeakFinder(data, out.stored_photo, pixels)
    for where, text in streams.items():
        assert CLIENT not in text, f"client name in {where}"
        assert "zebediah" not in text.lower(), where
        assert not finder.leaks(text), f"photo bytes in {where}"


def test_export_includes_a_clean_report_pdf(model: PoseModel, tmp_path: Path) -> None:
    out = _pipeline(_gps_jpeg(), model, tmp_path)
    with zipfile.ZipFile(io.BytesIO(out.export_zip)) as z:
        pdfs = [n for n in z.namelist() if n.endswith("report.pdf")]
        assert pdfs, json.loads(z.read("manifest.json"))["notes"]
        for name in pdfs:
            blob = z.read(name)
            assert blob.startswith(b"%PDF")
            assert _has_exif_or_gps(blob) == []
