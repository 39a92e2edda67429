"""Speed and memory of an analysis against the cheapest possible MediaPipe pipeline (issue 8).

    .venv/bin/python benchmarks/speed.py [--repeats 5] [--skip-batch] [--skip-memory]

From ``sample_images/yogait_tada3.jpg`` (one man standing, whole body) it makes a 1 MP and a 12 MP
JPEG, a ~12 MP HEIC and a 48 MP JPEG in a temporary folder (upscaled with cv2.INTER_CUBIC, padded
by edge replication to 4:3 so the whole body stays in frame), then measures, per photo:

* floor: the cheapest decode at the resolution the model needs (Pillow JPEG draft mode to a long
  side of 1-2k px; HEIC has no draft mode, so a full decode and an area downscale) plus ONE
  MediaPipe pass on that image;
* typical app: a full-resolution decode (cv2.imdecode; Pillow for HEIC) plus one full-resolution pass;
* ours single-pass: ``analyze(load_photo(bytes), options=AnalysisOptions(refine=False,
  auto_level=False))``, decode included;
* ours full: ``analyze(load_photo(bytes))`` with the default options, findings, the annotated photo
  and the PDF, end to end and phase by phase (the phases call the same pieces in the same order as
  ``posture.analysis.analyze``).

Then the peak memory (ru_maxrss of a fresh process after load_photo + analyze, nothing subtracted)
for a 12 MP and a 48 MP photo, and the batch throughput of ``posture analyze FOLDER --json`` in one
process against two processes on half of the files each.

Every timing is the minimum (and median) of ``--repeats`` runs after one warm-up run, with
time.perf_counter. The machine is shared: other processes make the medians noisy; the minimum is
the figure to compare. The last line is machine readable::

    single_pass_ratio=<x> full_ratio=<y> batch_photos_per_s=<z> peak_mb_48mp=<m>
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from posture.analysis import AnalysisOptions, analyze  # noqa: E402
from posture.findings import attach_findings  # noqa: E402
from posture.imaging import LoadOptions, load_photo  # noqa: E402
from posture.pose import PoseModel  # noqa: E402
from posture.report.annotate import annotate  # noqa: E402
from posture.report.model import build_report  # noqa: E402
from posture.report.pdf import render_pdf  # noqa: E402

SOURCE = ROOT / "sample_images" / "yogait_tada3.jpg"
PYTHON = sys.executable
# the long side the floor decodes to: what the model needs (analysis works on <= 2048 px)
FLOOR_MAX_SIDE = 2048
# sizes (w, h), 4:3 landscape like the source photo
# the single-pass path: one model pass, no automatic level
FAST = AnalysisOptions(refine=False, auto_level=False)
SIZES = {"1MP": (1152, 864), "12MP": (4000, 3000), "48MP": (8000, 6000)}


# -- timing ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    best: float  # wall clock, minimum over the repeats
    median: float  # wall clock
    cpu: float  # CPU time of this process (all threads), minimum: less sensitive to other load

    def ms(self) -> str:
        return (f"{self.best * 1000:8.1f} ms (median {self.median * 1000:7.1f}, "
                f"cpu {self.cpu * 1000:7.1f})")


def bench(fn: Callable[[], object], repeats: int) -> Timing:
    fn()  # warm-up: first-call allocations, lazy imports, model graph set-up
    times, cpus = [], []
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return Timing(min(times), statistics.median(times), min(cpus))


def bench_interleaved(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, Timing]:
    """Like :func:`bench` for several pipelines, run round-robin (one warm-up each first) so that
    a burst of load from other processes hits all of them alike and the ratios stay fair."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    cpus: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
            cpus[k].append(time.process_time() - c0)
    return {k: Timing(min(times[k]), statistics.median(times[k]), min(cpus[k])) for k in fns}


# -- test photos -----------------------------------------------------------------------------------


def _upscaled(src: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    sh, sw = src.shape[:2]
    s = min(w / sw, h / sh)
    big = cv2.resize(src, (round(sw * s), round(sh * s)), interpolation=cv2.INTER_CUBIC)
    bh, bw = big.shape[:2]
    top, left = (h - bh) // 2, (w - bw) // 2
    out: np.ndarray = cv2.copyMakeBorder(
        big, top, h - bh - top, left, w - bw - left, cv2.BORDER_REPLICATE
    )
    return out


def make_photos(folder: Path) -> dict[str, Path]:
    bgr = cv2.imread(str(SOURCE))
    if bgr is None:
        raise SystemExit(f"cannot read {SOURCE}")
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    out: dict[str, Path] = {}
    for name, size in SIZES.items():
        img = Image.fromarray(_upscaled(rgb, size))
        path = folder / f"photo_{name}.jpg"
        img.save(path, format="JPEG", quality=90)
        out[f"{name} JPEG"] = path
        if name == "12MP":
            import pillow_heif

            pillow_heif.register_heif_opener()
            hpath = folder / f"photo_{name}.heic"
            img.save(hpath, format="HEIF", quality=85)
            out[f"{name} HEIC"] = hpath
    return out


# -- the four pipelines ----------------------------------------------------------------------------


def floor_decode(data: bytes) -> np.ndarray:
    im = Image.open(io.BytesIO(data))
    w, h = im.size
    if im.format == "JPEG":
        k = 1
        while max(w, h) / k > FLOOR_MAX_SIDE and k < 8:  # JPEG DCT scaling: 1/2, 1/4, 1/8
            k *= 2
        if k > 1:
            im.draft("RGB", (w // k, h // k))
        im.load()
        return np.asarray(im.convert("RGB"))
    arr = np.asarray(im.convert("RGB"))  # HEIC: no reduced decode exists
    if max(w, h) > FLOOR_MAX_SIDE:
        s = FLOOR_MAX_SIDE / max(w, h)
        arr = cv2.resize(arr, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    return arr


def full_decode(data: bytes, fmt: str) -> np.ndarray:
    if fmt == "JPEG":
        bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        rgb: np.ndarray = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        return rgb
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def run_floor(model: PoseModel, data: bytes) -> object:
    return model.detect(floor_decode(data))


def run_typical(model: PoseModel, data: bytes, fmt: str) -> object:
    return model.detect(full_decode(data, fmt))


def run_single(model: PoseModel, data: bytes, load: LoadOptions | None) -> object:
    return analyze(load_photo(data, load), options=FAST, model=model)


def ours_full(data: bytes, model: PoseModel) -> bytes:
    photo = load_photo(data)
    analysis = attach_findings(analyze(photo, model=model))
    rgb = annotate(photo, analysis)
    return render_pdf(build_report(photo, analysis), rgb)


# -- phases of ours-full, in the order analyze() runs them -----------------------------------------


def phases(data: bytes, model: PoseModel, repeats: int) -> tuple[dict[str, Timing], int]:
    """Each phase of ours-full (min of ``repeats``); returns the timings and the model passes.

    The phases inside analyze() come from its own clock (``Analysis.timings_ms``), so this file
    does not re-implement the pipeline; decode, orientation, findings, annotate and PDF are separate
    calls and are timed here."""
    out: dict[str, Timing] = {}
    out["decode (load_photo)"] = bench(lambda: load_photo(data), repeats)
    photo = load_photo(data)
    # load_photo applies EXIF orientation inside; the test photos carry none, so this is the cost
    # of reading the tag plus what a rotation of the working copy would cost (a phone portrait)
    pil = Image.fromarray(photo.rgb)

    def orient() -> None:
        Image.open(io.BytesIO(data)).getexif().get(0x0112)
        np.asarray(pil.transpose(Image.Transpose.ROTATE_270))

    out["orient (EXIF + rotate)"] = bench(orient, repeats)
    runs = [analyze(photo, model=model) for _ in range(repeats)]
    analysis = runs[-1]
    passes = int(analysis.method["model_passes"])
    labels = {
        "detect": "detect (1 pass)",
        "refine": f"refine/augment ({passes - 1} passes)",
        "sides_and_checks": "sides, upright, framing, view check (faces)",
        "level": "level (estimate_roll)",
        "scale_and_measure": "scale + measure",
    }
    for key, label in labels.items():
        values = sorted(r.timings_ms.get(key, 0.0) for r in runs)
        out[label] = Timing(values[0] / 1000, values[len(values) // 2] / 1000, float("nan"))
    out["findings"] = bench(lambda: attach_findings(analysis), repeats)
    analysis = attach_findings(analysis)
    out["annotate"] = bench(lambda: annotate(photo, analysis), repeats)
    annotated = annotate(photo, analysis)
    out["PDF (build_report + render_pdf)"] = bench(
        lambda: render_pdf(build_report(photo, analysis), annotated), repeats
    )
    return out, passes


# -- memory ------------------------------------------------------------------------------------------

_MEMORY_CODE = """
import resource, sys
from posture.analysis import analyze
from posture.imaging import LoadOptions, load_photo
a = analyze(load_photo(sys.argv[1]))
rss = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS")]
print(rss[0] if rss else 0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

_BASELINE_CODE = """
import resource
from posture.pose import shared_model
from posture.analysis import analyze
shared_model()
rss = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS")]
print(rss[0] if rss else 0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_mb(path: Path | None) -> tuple[float, float]:
    """(peak, current) resident MB of a fresh process after model load (None) or after
    load_photo + analyze of ``path``; ru_maxrss and VmRSS are KB on Linux."""
    code = _BASELINE_CODE if path is None else _MEMORY_CODE
    args = [PYTHON, "-c", code] + ([] if path is None else [str(path)])
    res = subprocess.run(args, capture_output=True, text=True, check=True, cwd=ROOT)
    now_kb, peak_kb = (int(x) for x in res.stdout.strip().splitlines()[-1].split())
    return peak_kb / 1024.0, now_kb / 1024.0


# -- batch -------------------------------------------------------------------------------------------


def batch(folder: Path, repeats: int) -> tuple[float, float, int]:
    """Seconds for ``posture analyze FOLDER --json`` with ``--jobs 1`` and ``--jobs 2`` (two worker
    processes, one per core); returns (t_one, t_two, n_photos)."""
    sources = sorted(p for p in (ROOT / "sample_images").glob("yogait_*.jpg"))
    files = [sources[i % len(sources)] for i in range(10)]
    everything = folder / "all"
    everything.mkdir(parents=True)
    for i, f in enumerate(files):
        shutil.copy(f, everything / f"{i:02d}_{f.name}")
    exe = [PYTHON, "-m", "posture.cli", "analyze"]

    def one() -> None:
        subprocess.run([*exe, str(everything), "--json", "--jobs", "1"], capture_output=True, check=True)

    def two() -> None:
        subprocess.run([*exe, str(everything), "--json", "--jobs", "2"], capture_output=True, check=True)

    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t1 = bench(one, repeats).best
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t2 = bench(two, repeats).best
    c2 = resource.getrusage(resource.RUSAGE_CHILDREN)

    def cpu(a: resource.struct_rusage, b: resource.struct_rusage) -> float:
        return (b.ru_utime + b.ru_stime - a.ru_utime - a.ru_stime) / (repeats + 1)

    print(f"  CPU seconds per batch run (all processes): --jobs 1 {cpu(c0, c1):.2f} s, "
          f"--jobs 2 {cpu(c1, c2):.2f} s; with two idle cores --jobs 2 would take about "
          f"max(half of the CPU each) -> wall ~ {cpu(c1, c2) / 2:.2f} s")
    single = folder / "single"
    single.mkdir()
    shutil.copy(files[0], single / files[0].name)
    t0 = bench(
        lambda: subprocess.run([*exe, str(single), "--json"], capture_output=True, check=True), repeats
    ).best
    print(f"  one photo through the CLI (start-up + model load + 1 analysis): {t0:.2f} s")
    return t1, t2, len(files)


# -- main --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--skip-batch", action="store_true")
    ap.add_argument("--skip-memory", action="store_true")
    args = ap.parse_args(argv)
    r = args.repeats
    print(f"cores={os.cpu_count()} load average={os.getloadavg()[0]:.2f} (shared machine: "
          f"medians are noisy, compare the minima); repeats={r} after 1 warm-up")
    rows: dict[str, dict[str, Any]] = {}
    with PoseModel() as model, tempfile.TemporaryDirectory(prefix="posture_speed_") as tmp:
        photos = make_photos(Path(tmp))
        for label, path in photos.items():
            if label.startswith("48MP"):
                continue
            data = path.read_bytes()
            fmt = "JPEG" if path.suffix == ".jpg" else "HEIF"
            w, h = Image.open(path).size
            small = floor_decode(data)
            big = full_decode(data, fmt)
            row: dict[str, Any] = {"size": f"{w}x{h}", "floor_px": f"{small.shape[1]}x{small.shape[0]}"}
            # what-if: a working side that JPEG DCT scaling can hit exactly (w/2 = 2000 here), i.e.
            # what the proposed draft fix in imaging.load_photo would give for every size
            draftable = LoadOptions(max_working_side=max(w, h) // 2 if max(w, h) > 2048 else 2048)
            fns: dict[str, Callable[[], object]] = {
                "floor": partial(run_floor, model, data),
                "floor_pass": partial(model.detect, small),
                "typical": partial(run_typical, model, data, fmt),
                "single": partial(run_single, model, data, None),
                "full": partial(ours_full, data, model),
                "single_draft": partial(run_single, model, data, draftable),
            }
            row.update(bench_interleaved(fns, r))
            del big, small
            rows[label] = row
            print(f"\n{label} ({row['size']}, floor decodes to {row['floor_px']}):")
            for key, name in (("floor", "floor (reduced decode + 1 pass)"),
                              ("floor_pass", "  of which the pass"),
                              ("typical", "typical app (full decode + 1 full pass)"),
                              ("single", "ours single-pass (decode + analyze)"),
                              ("full", "ours full (analyze + findings + annotate + PDF)"),
                              ("single_draft", "what-if: single-pass, working side = w/2 (draft)")):
                print(f"  {name:48s} {row[key].ms()}")
            print(f"  single-pass / floor = {row['single'].best / row['floor'].best:.2f} "
                  f"(cpu {row['single'].cpu / row['floor'].cpu:.2f})   "
                  f"typical / floor = {row['typical'].best / row['floor'].best:.2f} "
                  f"(cpu {row['typical'].cpu / row['floor'].cpu:.2f})")
            sys.stdout.flush()

        data12 = photos["12MP JPEG"].read_bytes()
        ph, n_passes = phases(data12, model, r)
        print(f"\nours full, 12 MP JPEG, phase by phase (min of {r}); model passes per analysis: "
              f"{n_passes}")
        total = 0.0
        for name, t in ph.items():
            total += 0.0 if name.startswith("  ") else t.best
            print(f"  {name:40s} {t.ms()}")
        print(f"  {'sum of phases':40s} {total * 1000:8.1f} ms   "
              f"(end to end: {rows['12MP JPEG']['full'].best * 1000:.1f} ms)")

        peak48 = float("nan")
        if not args.skip_memory:
            base, base_now = peak_mb(None)
            p12, now12 = peak_mb(photos["12MP JPEG"])
            peak48, now48 = peak_mb(photos["48MP JPEG"])
            print(f"\npeak memory (ru_maxrss, fresh process, load_photo + analyze): 12 MP {p12:.0f} MB, "
                  f"48 MP {peak48:.0f} MB; resident afterwards {now12:.0f} / {now48:.0f} MB "
                  f"(imports + model alone: peak {base:.0f} MB, resident {base_now:.0f} MB)")

        per_s = float("nan")
        if not args.skip_batch:
            reps = max(1, min(r, 3))
            t1, t2, n = batch(Path(tmp) / "batch", reps)
            per_s = n / t2
            print(f"\nbatch `posture analyze FOLDER --json`, {n} photos (min of {reps}): "
                  f"--jobs 1 {t1:.2f} s = {n / t1:.2f} photos/s; --jobs 2 "
                  f"{t2:.2f} s = {per_s:.2f} photos/s (speed-up {t1 / t2:.2f}x)")

    floor12 = rows["12MP JPEG"]["floor"].best
    single_ratio = rows["12MP JPEG"]["single"].best / floor12
    full_ratio = rows["12MP JPEG"]["full"].best / (n_passes * 1.2 * floor12)
    full_ratio_pass = rows["12MP JPEG"]["full"].best / (
        n_passes * 1.2 * rows["12MP JPEG"]["floor_pass"].best
    )
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    r12 = rows["12MP JPEG"]
    print(f"\nCPU-time ratios (less load-sensitive): single_pass {r12['single'].cpu / r12['floor'].cpu:.2f}"
          f" full {r12['full'].cpu / (n_passes * 1.2 * r12['floor'].cpu):.2f}")
    print(f"full_ratio against the floor pass alone (no decode): {full_ratio_pass:.2f}; "
          f"this benchmark process peaked at {own:.0f} MB")
    print(f"single_pass_ratio={single_ratio:.2f} full_ratio={full_ratio:.2f} "
          f"batch_photos_per_s={per_s:.2f} peak_mb_48mp={peak48:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
