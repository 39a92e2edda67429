"""The level estimator under a turned camera: every photo turned by a known angle must be found turned
by exactly that angle.

    .venv/bin/python benchmarks/level_turns.py [--images DIR] [--limit N] [--min-vp-distance D] \
[--max-roll-deg R]

Every photo under ``../shared/images`` (any view) is turned by c = -6, -4, +4, +6 degrees, once about
the photo's centre and once about the client's hip midpoint (a turn about another point loses other
corners: other scene lines reach the estimator), with the warp of ``benchmarks/validity.py`` (reflected
borders). Each copy's level is estimated (``posture.level.estimate_roll``, the person masked by one
model pass, as in the analysis). Where both the photo and its copy have a confident level, the
inconsistency is ``roll(copy) - c - roll(photo)``: 0 for an estimator that sees the same scene lines.
Printed per photo: the untouched roll, how many of the 8 copies got a confident level and the largest
inconsistency; then the photos whose largest inconsistency exceeds 0.5 deg. ``--min-vp-distance`` and
``--max-roll-deg`` override :class:`posture.level.RollOptions` (e.g. 0.5 and 20 for the gates before
the stair-rail fix). The last line is machine readable::

    level_photos=<n> level_levelled_photos=<n with a confident level> level_max_err=<deg> \
level_median_err=<deg> level_over_half_deg=<photos> found_share=<copies of those with a confident level>
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from validity import turn  # noqa: E402

from posture.errors import PostureError  # noqa: E402
from posture.imaging import load_photo  # noqa: E402
from posture.level import RollOptions, estimate_roll  # noqa: E402
from posture.pose import Landmark as L  # noqa: E402
from posture.pose import shared_model  # noqa: E402

TURNS = (-6.0, -4.0, 4.0, 6.0)
SUFFIXES = (".jpg", ".jpeg", ".png")
FLAG_DEG = 0.5


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", default=str(ROOT.parent / "shared" / "images"))
    ap.add_argument("--limit", type=int, default=0, help="at most N photos (0 = all)")
    ap.add_argument("--min-vp-distance", type=float, default=None)
    ap.add_argument("--max-roll-deg", type=float, default=None)
    args = ap.parse_args()
    folder = Path(args.images)
    if not folder.is_dir():
        print(f"photo folder {folder} is missing (../shared/images, or --images DIR); nothing measured.")
        print("level_photos=0 status=missing")
        return 2
    opts = RollOptions()
    if args.min_vp_distance is not None:
        opts = dataclasses.replace(opts, min_vp_distance=args.min_vp_distance)
    if args.max_roll_deg is not None:
        opts = dataclasses.replace(opts, max_roll_deg=args.max_roll_deg)
    print(f"level gates: min_vp_distance={opts.min_vp_distance} max_roll_deg={opts.max_roll_deg}")
    net = shared_model()

    def level(img: np.ndarray) -> float | None:
        found = net.detect(img)
        est = estimate_roll(img, found[0].mask if found else None, opts)
        return est.roll_deg if est.confident else None

    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES)
    photos, levelled, found, tried = 0, 0, 0, 0
    errs: list[float] = []
    flagged: list[tuple[str, float]] = []
    for path in files:
        if args.limit and photos >= args.limit:
            break
        try:
            rgb = np.ascontiguousarray(load_photo(path).rgb)
        except PostureError:
            continue
        people = net.detect(rgb)
        if not people:
            continue
        photos += 1
        base = level(rgb)
        levelled += base is not None
        hips = people[0].points[[L.RIGHT_HIP, L.LEFT_HIP], :2].mean(axis=0)
        pivots = ((rgb.shape[1] / 2.0, rgb.shape[0] / 2.0), (float(hips[0]), float(hips[1])))
        mine: list[float] = []
        for pivot in pivots:
            for c in TURNS:
                r = level(turn(rgb, pivot, c, "all", 0.0))
                if base is not None:
                    tried += 1
                    if r is not None:
                        found += 1
                        mine.append(abs(r - c - base))
        worst = max(mine) if mine else math.nan
        errs.extend(mine)
        if mine and worst > FLAG_DEG:
            flagged.append((path.name, worst))
        print(f"  {path.name[:40]:40s} roll {'  --  ' if base is None else f'{base:+6.2f}'}  "
              f"found {len(mine)}/{2 * len(TURNS)}  max {worst:.2f}", flush=True)
    print(f"\nphotos whose level moves by more than {FLAG_DEG} deg: "
          + (", ".join(f"{n} ({w:.2f})" for n, w in flagged) or "none"))
    print(f"level_photos={photos} level_levelled_photos={levelled} level_max_err="
          f"{max(errs) if errs else math.nan:.3f} level_median_err="
          f"{statistics.median(errs) if errs else math.nan:.3f} level_over_half_deg={len(flagged)} "
          f"found_share={found / tried if tried else math.nan:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
