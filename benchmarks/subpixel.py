"""The resampling floor: how far the tilts move when a photo is shifted by less than a pixel.

    .venv/bin/python benchmarks/subpixel.py [--images DIR] [--limit N] [--photos NAME ...]
                                            [--set OPTION=VALUE ...] [--ours-only]

Every perturbation in benchmarks/validity.py (a region turn, a turned camera) resamples the photo, and
so does a real camera held a little differently. This benchmark isolates that one effect: each usable
front and back photo of ``../shared/images`` (the photos benchmarks/validity.py uses) is shifted by
five fixed sub-pixel offsets (at most 0.5 px; bicubic, reflected border) and analysed with the level
given (``camera_roll_deg=0``), beside the photo as it is. Nothing about the body changes, so the
truth is "no change" and any spread is the model reading resampled pixels differently.

Per photo it prints the SD and the range (largest minus smallest) of the shoulder and hip tilts
over the six copies, for ours (the default analysis) and for one raw model pass (``refine=False``),
and whether the photo check holds the photo's findings back (``held``). A photo whose tilts spread by
r here cannot hold a turned camera to better than about r/2 in benchmarks/validity.py's ``camera``
and ``scene`` rows, whatever the level estimate. The last line is machine readable (key=value):
medians over the photos, and over the photos the check accepts (``checked_*``). ``--set`` changes a
field of ``AnalysisOptions`` for ours (e.g. ``--set straighten_pool_rounds=3``), to measure what an
option does to this floor; ``--ours-only`` skips the raw pass.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from validity import load_item, median_or_nan, parse_sets, photo_items, usable  # noqa: E402

from posture.analysis import Analysis, AnalysisOptions, analyze  # noqa: E402
from posture.errors import PostureError  # noqa: E402
from posture.imaging import Photo  # noqa: E402
from posture.sides import View  # noqa: E402

LINES = ("shoulder_tilt", "hip_tilt")
# (dx, dy) in pixels: the photo as it is, then five shifts of at most half a pixel
SHIFTS = ((0.0, 0.0), (0.3, 0.0), (0.0, 0.3), (0.5, 0.5), (-0.4, 0.2), (0.2, -0.45))


def shifted(rgb: np.ndarray, dx: float, dy: float) -> np.ndarray:
    if dx == 0.0 and dy == 0.0:
        return rgb
    h, w = rgb.shape[:2]
    m = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]], dtype=np.float32)
    out = cv2.warpAffine(rgb, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101)
    return np.ascontiguousarray(out)


def tilts(a: Analysis) -> dict[str, float] | None:
    """The shoulder and hip tilts of an analysis (None when either is unavailable)."""
    out = {}
    for m in LINES:
        v = a.measurements[m].value
        if not a.measurements[m].available or v is None:
            return None
        out[m] = float(v)
    return out


def analysed(rgb: np.ndarray, view: View, opts: AnalysisOptions) -> Analysis | None:
    try:
        return analyze(Photo.from_array(rgb), view, opts)
    except PostureError:
        return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", default=str(ROOT.parent / "shared" / "images"),
                    help="the shared test-photo folder")
    ap.add_argument("--limit", type=int, default=0, help="at most N usable photos (0 = all)")
    ap.add_argument("--photos", nargs="+", metavar="NAME",
                    help="only the photos whose file name starts with one of these")
    ap.add_argument("--set", nargs="+", action="extend", default=[], metavar="OPTION=VALUE",
                    help="AnalysisOptions fields for ours (Python literals)")
    ap.add_argument("--ours-only", action="store_true", help="skip the raw pass")
    args = ap.parse_args()
    try:
        changes = parse_sets(args.set)
    except ValueError as exc:
        print(f"--set: {exc} (write OPTION=VALUE with a Python literal, e.g. straighten_pool_rounds=3)")
        return 2
    ours = dataclasses.replace(AnalysisOptions(auto_level=False, camera_roll_deg=0.0), **changes)  # type: ignore[arg-type]
    kinds = {"ours": ours, "raw": AnalysisOptions(refine=False, auto_level=False, camera_roll_deg=0.0)}
    if args.ours_only:
        del kinds["raw"]
    folder = Path(args.images)
    items = photo_items(folder, args.photos)
    if items is None:
        return 2
    print(f"photos from {folder}: {len(items)} front/back candidates; {len(SHIFTS)} copies each "
          f"(shifts {', '.join(f'{dx:+.2f}/{dy:+.2f}' for dx, dy in SHIFTS)} px), level given"
          + (f"; ours with {', '.join(args.set)}" if args.set else ""))
    # per kind: photo -> line -> (sd, range); and the held photos
    stats: dict[str, dict[str, dict[str, tuple[float, float]]]] = {k: {} for k in kinds}
    held: set[str] = set()
    used = 0
    for item in items:
        if args.limit and used >= args.limit:
            break
        rgb = load_item(item)
        if rgb is None:
            continue
        try:
            base = analyze(Photo.from_array(rgb), item.view, kinds["ours"])
        except PostureError as exc:
            print(f"  skipped {item.path.name}: {exc}")
            continue
        why = usable(base, rgb.shape[0])
        if why:
            print(f"  skipped {item.path.name}: {why}")
            continue
        if base.capture is not None and base.capture.holds_findings:
            held.add(item.path.name)
        row = []
        for kind, opts in kinds.items():
            values: dict[str, list[float]] = {m: [] for m in LINES}
            for i, (dx, dy) in enumerate(SHIFTS):
                # ours on the photo as it is (SHIFTS[0]) is the analysis just made: it is deterministic
                a = base if kind == "ours" and i == 0 else analysed(shifted(rgb, dx, dy), item.view, opts)
                r = tilts(a) if a is not None else None
                if r is None:
                    continue
                for m in LINES:
                    values[m].append(r[m])
            if min(len(v) for v in values.values()) < 3:
                continue
            stats[kind][item.path.name] = {
                m: (statistics.stdev(v), max(v) - min(v)) for m, v in values.items()
            }
            row.append(f"{kind}: " + "  ".join(
                f"{m.split('_')[0]} sd {stats[kind][item.path.name][m][0]:.2f} "
                f"range {stats[kind][item.path.name][m][1]:.2f}" for m in LINES))
        if item.path.name not in stats["ours"]:
            print(f"  skipped {item.path.name}: analysis failed on the shifted copies")
            continue
        used += 1
        mark = "held" if item.path.name in held else "ok  "
        print(f"  {item.path.name[:40]:40s} {item.view.value[:4]} {mark} " + "   ".join(row), flush=True)

    out: dict[str, float] = {"photos": float(used)}
    for kind in kinds:
        pre = "" if kind == "ours" else f"{kind}_"
        for subset, names in (("", set(stats[kind])), ("checked_", set(stats[kind]) - held)):
            if kind != "ours" and subset:
                continue
            for m in LINES:
                key = m.split("_")[0]
                out[f"{pre}{subset}median_sd_{key}"] = median_or_nan([stats[kind][n][m][0] for n in names])
                out[f"{pre}{subset}max_range_{key}"] = max(
                    (stats[kind][n][m][1] for n in names), default=float("nan"))
    out["checked_photos"] = float(len(set(stats["ours"]) - held))
    print(" ".join(f"{k}={v:.3f}" if k not in ("photos", "checked_photos") else f"{k}={int(v)}"
                   for k, v in out.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
