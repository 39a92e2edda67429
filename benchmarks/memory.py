"""Peak memory of one analysis of the worst uploads the app accepts (issue 16, item 3).

    .venv/bin/python benchmarks/memory.py

Two PNGs are generated on the fly in a temporary folder (never kept):

* ``16-bit 9450x9450``: a 16-bit grayscale PNG (mode I;16), 89 MP, the decompression-amplifier of
  the issue (a tiny file, a huge decode; the old 16-bit conversion went through float64 copies of
  the whole image: 2.7 GB);
* ``RGB 9000x9000``: an 81 MP 8-bit RGB PNG.

Both hold ``sample_images/yogait_tada3.jpg`` enlarged 8x (nearest neighbour, so the file stays
small) on a flat background, so the whole pipeline runs (decode, model passes, findings).

Each case runs in a fresh process: imports, the model and one warm-up analysis of the sample photo
first, then the peak-RSS counter is reset (``5 > /proc/self/clear_refs``, Linux) and the case is
decoded and analysed (``analyze(load_photo(bytes))``, as the app does). Printed per case: the
resident memory before, the peak RSS during the case (VmHWM), and the difference: what one such
upload adds to a running server. The goal (issue 16) is at most 600 MB added per case; the process
itself (libraries, model: ~290 MB resident, a ~660 MB start-up peak that benchmarks/speed.py
measures) is there before any upload.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
SAMPLE = ROOT / "sample_images" / "yogait_tada3.jpg"
ENLARGE = 8
GOAL_MB = 600.0
CASES = {"16-bit 9450x9450": ("I;16", 9450), "RGB 9000x9000": ("RGB", 9000)}

_CHILD = r"""
import json, sys
from pathlib import Path

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024.0
    return 0.0

from posture.analysis import analyze
from posture.errors import PostureError
from posture.imaging import load_photo
analyze(load_photo(Path(sys.argv[1]).read_bytes()))  # model + warm-up
data = Path(sys.argv[2]).read_bytes()
before = status("VmRSS")
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")
outcome = "analysed"
try:
    photo = load_photo(data)
    result = analyze(photo)
    shown = sum(1 for m in result.measurements.values() if m.available)
    outcome = f"analysed (working copy {photo.rgb.shape[1]}x{photo.rgb.shape[0]}, {shown} measurements)"
except PostureError as exc:
    outcome = f"refused ({exc.code})"
print(json.dumps({"before": before, "peak": status("VmHWM"), "outcome": outcome, "bytes": len(data)}))
"""


def make_case(mode: str, side: int, folder: Path) -> Path:
    person = Image.open(SAMPLE).convert("RGB")
    big = person.resize((person.width * ENLARGE, person.height * ENLARGE), Image.Resampling.NEAREST)
    if mode == "I;16":
        gray = np.asarray(big.convert("L"), dtype=np.uint16) * 257  # full 16-bit range
        canvas = np.full((side, side), 200 * 257, dtype=np.uint16)
        top, left = (side - gray.shape[0]) // 2, (side - gray.shape[1]) // 2
        canvas[top : top + gray.shape[0], left : left + gray.shape[1]] = gray
        img = Image.fromarray(canvas)
    else:
        img = Image.new("RGB", (side, side), (200, 200, 200))
        img.paste(big, ((side - big.width) // 2, (side - big.height) // 2))
    path = folder / f"case_{mode.replace(';', '')}_{side}.png"
    img.save(path, "PNG", compress_level=6)
    return path


def main() -> int:
    print(f"peak RSS of one load_photo + analyze, a fresh process per case (goal: <= {GOAL_MB:.0f} MB added)")
    worst_added = 0.0
    with tempfile.TemporaryDirectory(prefix="posture-mem-") as tmp:
        for name, (mode, side) in CASES.items():
            # generated in its own process, so the generator's memory is not in the measurement
            gen = (f"import sys; sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); import memory; "
                   f"print(memory.make_case({mode!r}, {side}, __import__('pathlib').Path({tmp!r})))")
            path = Path(subprocess.run([PYTHON, "-c", gen], capture_output=True, text=True, check=True,
                                       cwd=ROOT).stdout.strip())
            res = subprocess.run([PYTHON, "-c", _CHILD, str(SAMPLE), str(path)], capture_output=True,
                                 text=True, check=True, cwd=ROOT)
            r = json.loads(res.stdout.strip().splitlines()[-1])
            worst_added = max(worst_added, r["peak"] - r["before"])
            print(f"{name:18s} file {r['bytes'] / 1024:7.0f} KB  resident before {r['before']:5.0f} MB  "
                  f"peak {r['peak']:5.0f} MB  (+{r['peak'] - r['before']:4.0f} MB)  {r['outcome']}")
    verdict = "OK" if worst_added <= GOAL_MB else "ABOVE GOAL"
    print(f"worst_added_mb={worst_added:.0f} goal_added_mb={GOAL_MB:.0f} {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
