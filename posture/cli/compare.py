"""``posture compare BEFORE AFTER [--json] [--side-by-side OUT.png] [--overlay OUT.png]``.

Both photos are analysed with the same options (``--view``, ``--height-cm``, ``--camera-roll``, ...)
and compared measurement by measurement: the change, its ± and whether it is real or noise.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from posture.cli.options import add_analysis_options, analyze_path


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("compare", help="compare a before and an after photo of one client")
    p.add_argument("before", help="the earlier photo")
    p.add_argument("after", help="the later photo")
    add_analysis_options(p)
    p.add_argument("--json", action="store_true", help="print the comparison JSON (posture.comparison/1)")
    p.add_argument("--side-by-side", metavar="OUT.png", help="write both photos aligned on the body")
    p.add_argument("--overlay", metavar="OUT.png", help="write both photos aligned and blended")
    p.set_defaults(handler=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    from posture.compare import align_pair as align
    from posture.compare import compare, overlay, side_by_side

    photo_b, before = analyze_path(Path(args.before), args)
    photo_a, after = analyze_path(Path(args.after), args)
    result = compare(before, after)
    if args.side_by_side:
        _save(side_by_side(*align(photo_b, before, photo_a, after)), Path(args.side_by_side))
    if args.overlay:
        _save(overlay(photo_b, before, photo_a, after), Path(args.overlay))
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
        return 0
    print(f"{Path(args.before).name} -> {Path(args.after).name}")
    for which, a in (("before", before), ("after", after)):  # a pose, not a posture, may have changed
        if a.capture is not None and not a.capture.confirmed:
            for c in a.capture.stance_failed:
                print(f"  photo check ({which}): {c.message}")
    for line in result.summary_lines():
        print(f"  {line}")
    real = [c.label for c in result.real_changes]
    print(f"  real changes: {', '.join(real) if real else 'none'}")
    return 0


def _save(rgb: Any, path: Path) -> None:
    from PIL import Image

    from posture.errors import PostureError

    try:
        Image.fromarray(rgb).save(path, format="PNG")
    except (OSError, ValueError) as exc:
        raise PostureError(f"Could not write {path} ({exc}).", "Choose a writable .png path.") from None
