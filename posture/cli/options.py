"""What the sub-commands share: the analysis options, photo loading and the exit status.

``add_analysis_options(parser)`` adds ``--view --height-cm --camera-roll --no-level --fast --person
--model --confirm-stance``;
``analyze_path(path, args)`` loads one photo and analyses it with them.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

#: the exit status of a problem the user can fix (one line on stderr)
EXIT_USER_ERROR = 2


def add_analysis_options(ap: argparse.ArgumentParser) -> None:
    ap.add_argument(
        "--view", default="anterior",
        help="anterior (front, default), posterior (back), left or right (side view: the client's "
        "left or right side toward the camera)",
    )
    ap.add_argument("--height-cm", type=float, default=None, help="client's height: gives centimetres")
    ap.add_argument(
        "--camera-roll", type=float, default=None, metavar="DEG",
        help="known camera roll in degrees (clockwise on screen); overrides the automatic level",
    )
    ap.add_argument("--no-level", action="store_true", help="measure against the photo's edges")
    ap.add_argument("--fast", action="store_true", help="one model pass (less stable, wider ±)")
    ap.add_argument(
        "--person", type=int, default=None, metavar="N",
        help="the client when several people are in the photo: N counts the detected people from 1, "
        "left to right (the error lists them)",
    )
    ap.add_argument("--model", default=None, help="another pose .task bundle (default: bundled)")
    ap.add_argument(
        "--confirm-stance", action="store_true",
        help="the pose in the photo is how the client habitually stands: show the findings even "
        "when the photo check finds the stance or the view not neutral (recorded in the JSON)",
    )


def options_from_args(args: argparse.Namespace) -> Any:
    from posture.analysis import AnalysisOptions

    return AnalysisOptions(
        stature_cm=args.height_cm,
        camera_roll_deg=args.camera_roll,
        auto_level=not args.no_level,
        refine=not args.fast,
        model_path=args.model,
        confirm_stance=args.confirm_stance,
        person=None if args.person is None else args.person - 1,
    )


def analyze_path(path: Path, args: argparse.Namespace) -> Any:
    """Load + analyse one photo with the CLI's options (shared by analyze/report/compare)."""
    from posture.analysis import analyze
    from posture.imaging import load_photo

    photo = load_photo(path)
    return photo, analyze(photo, view=args.view, options=options_from_args(args))
