"""Stability, calibration and accuracy of the measurements, ours against raw one-pass MediaPipe.

    .venv/bin/python benchmarks/accuracy.py [FOLDER] [--limit N]

FOLDER defaults to ../shared/images when present (annotated photos are also scored against their
human keypoints), else sample_images/. Each photo is perturbed in ways whose effect on the
measurements is known exactly: rescale 0.5-2x, crop 5-10%, camera roll ±3°/±6° (compensated by
passing the known roll), mirror (sign flipped back), JPEG quality 70. For ours (refined, the default
analysis) and raw (one MediaPipe pass on the photo, sides from the view, as typical apps do) it
prints the median per-photo SD and range of shoulder and hip tilt, the coverage of the stated 95%
interval (share of perturbed results inside the unperturbed result's ±) beside the median stated ±,
and the landmark error against annotations normalised by torso length. The last line is machine
readable.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from posture import geometry as geo  # noqa: E402
from posture.analysis import AnalysisOptions, analyze  # noqa: E402
from posture.errors import PostureError  # noqa: E402
from posture.imaging import Photo, load_photo  # noqa: E402
from posture.pose import shared_model  # noqa: E402
from posture.sides import View  # noqa: E402

TILTS = ("shoulder_tilt", "hip_tilt")


@dataclass(frozen=True)
class Perturbation:
    name: str
    apply: Callable[[np.ndarray], np.ndarray]
    roll: float = 0.0  # known camera roll to compensate
    sign: float = 1.0  # mirror flips every signed measurement


def _resize(s: float) -> Callable[[np.ndarray], np.ndarray]:
    def f(rgb: np.ndarray) -> np.ndarray:
        interp = cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
        return cv2.resize(rgb, None, fx=s, fy=s, interpolation=interp)

    return f


def _crop(left: float, top: float, right: float, bottom: float) -> Callable[[np.ndarray], np.ndarray]:
    def f(rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        rows = slice(int(h * top), h - int(h * bottom))
        cols = slice(int(w * left), w - int(w * right))
        return np.ascontiguousarray(rgb[rows, cols])

    return f


def _roll(theta: float) -> Callable[[np.ndarray], np.ndarray]:
    def f(rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        pad = cv2.copyMakeBorder(rgb, h // 10, h // 10, w // 10, w // 10, cv2.BORDER_REPLICATE)
        ph, pw = pad.shape[:2]
        m = cv2.getRotationMatrix2D((pw / 2, ph / 2), -theta, 1.0)  # clockwise on screen
        return cv2.warpAffine(pad, m, (pw, ph), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    return f


def _jpeg(q: int) -> Callable[[np.ndarray], np.ndarray]:
    def f(rgb: np.ndarray) -> np.ndarray:
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="JPEG", quality=q)
        return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))

    return f


PERTURBATIONS = (
    Perturbation("scale0.5", _resize(0.5)),
    Perturbation("scale0.75", _resize(0.75)),
    Perturbation("scale1.5", _resize(1.5)),
    Perturbation("scale2", _resize(2.0)),
    Perturbation("crop5", _crop(0.05, 0.0, 0.0, 0.0)),
    Perturbation("crop10", _crop(0.0, 0.05, 0.05, 0.0)),
    Perturbation("roll+3", _roll(3.0), roll=3.0),
    Perturbation("roll-3", _roll(-3.0), roll=-3.0),
    Perturbation("roll+6", _roll(6.0), roll=6.0),
    Perturbation("roll-6", _roll(-6.0), roll=-6.0),
    Perturbation("mirror", lambda rgb: np.ascontiguousarray(rgb[:, ::-1]), sign=-1.0),
    Perturbation("jpeg70", _jpeg(70)),
)


@dataclass(frozen=True)
class Item:
    path: Path
    view: View
    annotation: dict[str, dict[str, float]] | None


def collect(folder: Path, limit: int) -> list[Item]:
    items: list[Item] = []
    index = folder / "annotated" / "index.json"
    seen: set[str] = set()
    if index.is_file():
        meta = json.loads(index.read_text())
        for entry in meta["images"]:
            if entry.get("view") not in ("front", "back"):
                continue
            ann = json.loads((folder / "annotated" / entry["json"]).read_text())
            person = ann["persons"][ann.get("primary_person_index", 0)]
            view = View.ANTERIOR if entry["view"] == "front" else View.POSTERIOR
            items.append(Item(folder / "annotated" / entry["image"], view, person["keypoints"]))
            seen.add(entry["image"])
    exts = {".jpg", ".jpeg", ".png"}
    for p in sorted(folder.rglob("*")):
        if p.suffix.lower() in exts and p.name not in seen and "evidence" not in p.parts:
            items.append(Item(p, View.POSTERIOR if p.name in BACK_VIEWS else View.ANTERIOR, None))
            seen.add(p.name)
    return items[:limit]


BACK_VIEWS = {"coco_000000397133.jpg", "coco_000000183709.jpg"}


def measure(rgb: np.ndarray, view: View, refine: bool, roll: float) -> dict[str, tuple[float, float]] | None:
    opts = AnalysisOptions(refine=refine, auto_level=False, camera_roll_deg=roll)
    try:
        a = analyze(Photo.from_array(rgb), view, opts)
    except PostureError:
        return None
    out = {}
    for name in TILTS:
        m = a.measurements[name]
        if m.available and m.value is not None:
            out[name] = (m.value, m.uncertainty or 0.0)
    out["_landmarks"] = a  # type: ignore[assignment]
    return out


def landmark_error(analysis: object, ann: dict[str, dict[str, float]]) -> float | None:
    names = ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
    if any(ann.get(n, {}).get("v", 0) == 0 for n in names):
        return None
    gt = {n: np.array([ann[n]["x"], ann[n]["y"]]) for n in names}
    mid_sh = (gt["left_shoulder"] + gt["right_shoulder"]) / 2
    torso = np.linalg.norm(mid_sh - (gt["left_hip"] + gt["right_hip"]) / 2)
    if torso <= 0:
        return None
    errs = [np.linalg.norm(np.array(analysis.point_xy(n)) - gt[n]) for n in names]  # type: ignore[attr-defined]
    return float(np.median(errs) / torso)


def annotated_tilt(ann: dict[str, dict[str, float]], view: View, part: str) -> float | None:
    r, left = ann.get(f"right_{part}"), ann.get(f"left_{part}")
    if not r or not left or r.get("v", 0) == 0 or left.get("v", 0) == 0:
        return None
    return geo.tilt_deg((r["x"], r["y"]), (left["x"], left["y"]), view.toward_left)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = ROOT.parent / "shared" / "images"
    ap.add_argument("folder", nargs="?", default=str(default if default.is_dir() else ROOT / "sample_images"))
    ap.add_argument("--limit", type=int, default=60)
    args = ap.parse_args()
    folder = Path(args.folder)
    print(f"photos from {folder}" + ("" if folder.is_dir() else " (missing)"))
    items = collect(folder, args.limit)
    shared_model()
    stats: dict[str, dict[str, list[float]]] = {
        k: {key: [] for key in ("sd_s", "sd_h", "rg_s", "rg_h", "cov", "unc", "lm", "err_s", "err_h")}
        for k in ("ours", "raw")
    }
    t0 = time.perf_counter()
    used = 0
    for item in items:
        try:
            rgb = np.ascontiguousarray(load_photo(item.path).rgb)
        except PostureError:
            continue
        per = {}
        for kind, refine in (("ours", True), ("raw", False)):
            base = measure(rgb, item.view, refine, 0.0)
            if base is None or any(t not in base for t in TILTS):
                per = {}
                break
            values: dict[str, list[float]] = {t: [base[t][0]] for t in TILTS}
            inside = []
            for pert in PERTURBATIONS:
                res = measure(pert.apply(rgb), item.view, refine, pert.roll)
                if res is None:
                    continue
                for t in TILTS:
                    if t in res:
                        v = res[t][0] * pert.sign
                        values[t].append(v)
                        inside.append(abs(v - base[t][0]) <= base[t][1])
            per[kind] = (base, values, inside)
        if not per:
            print(f"  skipped {item.path.name}: no usable person")
            continue
        used += 1
        line = [item.path.name[:40].ljust(40)]
        for kind, (base, values, inside) in per.items():
            s = stats[kind]
            s["sd_s"].append(float(np.std(values["shoulder_tilt"], ddof=1)))
            s["sd_h"].append(float(np.std(values["hip_tilt"], ddof=1)))
            s["rg_s"].append(float(np.ptp(values["shoulder_tilt"])))
            s["rg_h"].append(float(np.ptp(values["hip_tilt"])))
            s["cov"].extend(float(x) for x in inside)
            s["unc"].extend([base["shoulder_tilt"][1], base["hip_tilt"][1]])
            if item.annotation:
                err = landmark_error(base["_landmarks"], item.annotation)
                if err is not None:
                    s["lm"].append(err)
                for t, part in (("err_s", "shoulder"), ("err_h", "hip")):
                    gt = annotated_tilt(item.annotation, item.view, part)
                    if gt is not None:
                        s[t].append(abs(base[f"{part}_tilt"][0] - gt))
            line.append(f"{kind}: sd {s['sd_s'][-1]:.2f}/{s['sd_h'][-1]:.2f}")
        print("  " + "  ".join(line), flush=True)

    def med(xs: list[float]) -> float:
        return statistics.median(xs) if xs else float("nan")

    print(f"\n{used} photos x {len(PERTURBATIONS)} perturbations in {time.perf_counter() - t0:.0f} s\n")
    print(f"{'':28s}{'ours':>10s}{'raw 1-pass':>12s}")
    rows = [
        ("shoulder tilt SD (deg)", "sd_s"),
        ("hip tilt SD (deg)", "sd_h"),
        ("shoulder tilt range (deg)", "rg_s"),
        ("hip tilt range (deg)", "rg_h"),
        ("median stated ± (deg)", "unc"),
        ("landmark error / torso", "lm"),
        ("|shoulder tilt - annot.|", "err_s"),
        ("|hip tilt - annot.|", "err_h"),
    ]
    for label, key in rows:
        print(f"{label:28s}{med(stats['ours'][key]):10.3f}{med(stats['raw'][key]):12.3f}")
    cov = float(np.mean(stats["ours"]["cov"])) if stats["ours"]["cov"] else float("nan")
    raw_cov = float(np.mean(stats["raw"]["cov"])) if stats["raw"]["cov"] else float("nan")
    print(f"{'coverage of stated 95% ±':28s}{cov:10.3f}{raw_cov:12.3f}")
    print(
        f"shoulder_sd={med(stats['ours']['sd_s']):.3f} hip_sd={med(stats['ours']['sd_h']):.3f} "
        f"coverage={cov:.3f} raw_shoulder_sd={med(stats['raw']['sd_s']):.3f} "
        f"raw_hip_sd={med(stats['raw']['sd_h']):.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
