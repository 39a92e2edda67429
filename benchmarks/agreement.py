"""Agreement with hand annotations, by straightening setting: the current pipeline, the earlier
32-pass rounds (4, 12, 12, waist bend capped at 6°, no extrapolation) and no straightening.

    .venv/bin/python benchmarks/agreement.py [--limit N] [--all]

Photos: ``../shared/images/annotated`` (front and back views, tiers 1-2), by default only the
standing photos (not the COCO/CrowdPose/JHMDB/H36M/MPII action photos; ``--all`` keeps them). Per
photo it prints the annotated shoulder and hip tilts (from the clicked joint centres, the client's
sides from the view) beside each setting's, all with the level taken as the photo's frame (roll 0);
then the median |tilt - annotated tilt| per setting. The annotations are clicks on clothed bodies
(hips "estimated" under clothing), not a measured ground truth: read this as agreement, not error.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import posture.analysis as analysis_module  # noqa: E402
import posture.refine as refine_module  # noqa: E402
from posture.analysis import AnalysisOptions, analyze  # noqa: E402
from posture.errors import PostureError  # noqa: E402
from posture.geometry import tilt_deg  # noqa: E402
from posture.imaging import load_photo  # noqa: E402
from posture.sides import View  # noqa: E402

ACTION_PREFIXES = ("coco", "crowdpose", "jhmdb", "h36m", "mpii")
# (name, options, waist-bend cap) of each setting compared
SETTINGS: tuple[tuple[str, dict[str, object], float], ...] = (
    ("current", {}, refine_module.MAX_WAIST_BEND_DEG),
    ("rounds32", {"straighten_passes": (4, 12, 12), "straighten_extrapolate": False}, 6.0),
    ("unstraightened", {"straighten_passes": ()}, refine_module.MAX_WAIST_BEND_DEG),
)
NEEDED = ("left_shoulder", "right_shoulder", "left_hip", "right_hip")


def _set_cap(cap: float) -> None:
    # the analysis imported the constant by name: set it in both modules
    refine_module.MAX_WAIST_BEND_DEG = cap
    setattr(analysis_module, "MAX_WAIST_BEND_DEG", cap)  # noqa: B010


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", default=str(ROOT.parent / "shared" / "images"))
    ap.add_argument("--limit", type=int, default=14)
    ap.add_argument("--all", action="store_true", help="keep the action photos too")
    args = ap.parse_args()
    folder = Path(args.images) / "annotated"
    if not (folder / "index.json").is_file():
        print(f"no annotated photos at {folder}")
        print("photos=0 status=missing")
        return 2
    diffs: dict[str, list[tuple[float, float]]] = {name: [] for name, _o, _c in SETTINGS}
    used = 0
    for e in json.loads((folder / "index.json").read_text())["images"]:
        if used >= args.limit:
            break
        if e.get("view") not in ("front", "back") or e.get("tier") not in (1, 2):
            continue
        if not args.all and e["image"].split("_")[0] in ACTION_PREFIXES:
            continue
        ann = json.loads((folder / (e["image"].rsplit(".", 1)[0] + ".json")).read_text())
        kp = ann["persons"][ann.get("primary_person_index", 0)]["keypoints"]
        if any(kp.get(n, {}).get("v", 0) == 0 for n in NEEDED):
            continue
        view = View.ANTERIOR if e["view"] == "front" else View.POSTERIOR

        def t(right: str, left: str, kp: dict = kp, view: View = view) -> float:  # type: ignore[type-arg]
            return tilt_deg((kp[right]["x"], kp[right]["y"]), (kp[left]["x"], kp[left]["y"]),
                            view.toward_left)

        truth = (t("right_shoulder", "left_shoulder"), t("right_hip", "left_hip"))
        photo = load_photo(folder / e["image"])
        read: dict[str, tuple[float, float]] = {}
        for name, opts, cap in SETTINGS:
            _set_cap(cap)
            try:
                a = analyze(photo, view, AnalysisOptions(auto_level=False, camera_roll_deg=0.0, **opts))  # type: ignore[arg-type]
            except PostureError:
                break
            s, h = a.measurements["shoulder_tilt"].value, a.measurements["hip_tilt"].value
            if s is None or h is None:
                break
            read[name] = (s, h)
        _set_cap(SETTINGS[0][2])
        if len(read) < len(SETTINGS):
            continue
        used += 1
        for name, (s, h) in read.items():
            diffs[name].append((abs(s - truth[0]), abs(h - truth[1])))
        print(f"  {e['image'][:32]:32s} annotated {truth[0]:+6.1f} {truth[1]:+6.1f} | "
              + " | ".join(f"{n} {s:+6.1f} {h:+6.1f}" for n, (s, h) in read.items()), flush=True)
    if not used:
        print("photos=0 status=empty")
        return 1
    out = [f"photos={used}"]
    for name, d in diffs.items():
        ms, mh = statistics.median(x[0] for x in d), statistics.median(x[1] for x in d)
        print(f"{name:15s} median |tilt - annotated|: shoulder {ms:.2f}°, hip {mh:.2f}°")
        out += [f"{name}_shoulder={ms:.2f}", f"{name}_hip={mh:.2f}"]
    print(" ".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
