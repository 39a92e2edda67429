"""The clinic's own settings: the practice name, the therapist, an optional logo and the default face
blur. Every PDF prints them (:func:`posture.report.layout.clinic_letterhead`).

Stored locally, beside the database, in the data directory (:func:`posture.store.engine.default_data_dir`:
``POSTURE_DATA_DIR``, else ``$XDG_DATA_HOME/posture``): ``settings.json`` and, when a logo is set,
``logo.png``. Both are written atomically (a temporary file in the same directory, flushed, then
``os.replace``d over the old one) and owner-only (0o600), so a crash never leaves half a file and a
reader sees the old or the new settings, never a mix. The logo is re-encoded from its pixels as PNG
(no EXIF/GPS/ICC of the original file survives) and kept at most :data:`LOGO_MAX_PX` on a side.

A missing file means the defaults (nothing printed); an unreadable one also gives the defaults and a
warning in the log that names the file only (never its content).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from posture.errors import PostureError
from posture.text import PRACTICE_NAME_MAX, strip_invisible

SETTINGS_FILENAME = "settings.json"
LOGO_FILENAME = "logo.png"
SETTINGS_SCHEMA = "posture.settings/1"
# A name printed on every page's header: longer than this is refused (a clear error, not a cut).
MAX_NAME_CHARS = PRACTICE_NAME_MAX
# The logo is printed ~14 mm tall: 400 px is plenty at print resolution.
LOGO_MAX_PX = 400
# Refuse a logo file larger than this before decoding it.
LOGO_MAX_BYTES = 5_000_000

_log = logging.getLogger(__name__)


class SettingsError(PostureError):
    code = "settings_error"
    default_hint = "Check the clinic settings (Settings page) and the data directory."


@dataclass(frozen=True)
class ClinicSettings:
    """What every report carries. Empty strings print nothing; ``logo`` is a file name inside the
    data directory (None: no logo); ``blur_faces`` is the default of the report's face blur."""

    clinic: str = ""
    therapist: str = ""
    logo: str | None = None
    blur_faces: bool = False

    def __post_init__(self) -> None:
        for field in ("clinic", "therapist"):
            text = getattr(self, field)
            if not isinstance(text, str):
                raise SettingsError(f"The {field} name must be text.")
            # control and bidi characters dropped (posture.text); longer is refused, not cut
            cleaned = strip_invisible(text).strip()
            if len(cleaned) > MAX_NAME_CHARS:
                raise SettingsError(f"The {field} name can be at most {MAX_NAME_CHARS} characters "
                                    f"(this one has {len(cleaned)}).")
            object.__setattr__(self, field, cleaned)
        if self.logo is not None and (not self.logo or Path(self.logo).name != self.logo):
            raise SettingsError("The logo must be a file inside the data directory.")

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SETTINGS_SCHEMA, **asdict(self)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ClinicSettings:
        logo = d.get("logo")
        return cls(clinic=str(d.get("clinic") or ""), therapist=str(d.get("therapist") or ""),
                   logo=str(logo) if logo else None, blur_faces=bool(d.get("blur_faces", False)))


def data_dir(path: str | Path | None = None) -> Path:
    """``path``, else the store's data directory (created owner-only if missing)."""
    if path is not None:
        d = Path(path)
    else:
        from posture.store.engine import default_data_dir

        d = default_data_dir()
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    return d


def settings_path(directory: str | Path | None = None) -> Path:
    return data_dir(directory) / SETTINGS_FILENAME


def load_settings(directory: str | Path | None = None) -> ClinicSettings:
    """The saved settings, or the defaults (no file, or a file that cannot be read)."""
    path = settings_path(directory)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ClinicSettings()
    except OSError as exc:
        _log.warning("clinic settings %s not readable (%s): using the defaults", path, type(exc).__name__)
        return ClinicSettings()
    try:
        d = json.loads(raw)
        if not isinstance(d, dict):
            raise ValueError("not an object")
        return ClinicSettings.from_dict(d)
    except (ValueError, PostureError) as exc:
        _log.warning("clinic settings %s not valid (%s): using the defaults", path, type(exc).__name__)
        return ClinicSettings()


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def save_settings(settings: ClinicSettings, directory: str | Path | None = None) -> Path:
    """Write ``settings`` atomically; returns the file's path."""
    path = settings_path(directory)
    _write_atomic(path, json.dumps(settings.to_dict(), indent=2, ensure_ascii=False).encode("utf-8"))
    return path


def store_logo(data: bytes, settings: ClinicSettings, directory: str | Path | None = None
               ) -> ClinicSettings:
    """Copy an uploaded logo (PNG/JPEG/... bytes) into the data directory as ``logo.png``,
    re-encoded from its pixels (no metadata), at most :data:`LOGO_MAX_PX` on a side. Returns the
    settings naming it (not yet saved: pass them to :func:`save_settings`)."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > LOGO_MAX_BYTES:
        raise SettingsError(f"The logo file is too large ({len(data) // 1_000_000} MB; at most "
                            f"{LOGO_MAX_BYTES // 1_000_000} MB).", "Use a smaller PNG or JPEG.")
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            rgba = im.convert("RGBA")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise SettingsError("The logo is not an image Pillow can read.", "Use a PNG or JPEG.") from exc
    rgba.thumbnail((LOGO_MAX_PX, LOGO_MAX_PX))
    buf = io.BytesIO()
    rgba.save(buf, format="PNG")
    _write_atomic(data_dir(directory) / LOGO_FILENAME, buf.getvalue())
    return replace(settings, logo=LOGO_FILENAME)


def remove_logo(settings: ClinicSettings, directory: str | Path | None = None) -> ClinicSettings:
    """The settings without a logo; the logo file is deleted."""
    if settings.logo:
        with contextlib.suppress(FileNotFoundError):
            (data_dir(directory) / settings.logo).unlink()
    return replace(settings, logo=None)


def logo_path(settings: ClinicSettings, directory: str | Path | None = None) -> Path | None:
    """The logo file, when one is set and present."""
    if not settings.logo:
        return None
    p = data_dir(directory) / settings.logo
    return p if p.is_file() else None
