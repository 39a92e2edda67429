"""Command line: ``posture analyze PHOTO... [--view ...] [--json] [--annotate OUT.png]``.

Errors print one line on stderr naming the problem and what to do, and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from posture.errors import PostureError

EXIT_USER_ERROR = 2


def _photo_paths(items: Sequence[str]) -> Iterator[Path]:
    from posture.imaging import ACCEPTED_EXTENSIONS

    for item in items:
        p = Path(item)
        if p.is_dir():
            for child in sorted(p.iterdir()):
                if child.is_file() and child.suffix.lower().lstrip(".") in ACCEPTED_EXTENSIONS:
                    yield child
        else:
            yield p


def _add_analysis_options(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--view", default="anterior", help="anterior (front, default) or posterior (back)")
    ap.add_argument("--height-cm", type=float, default=None, help="client's height: gives centimetres")
    ap.add_argument(
        "--camera-roll", type=float, default=None, metavar="DEG",
        help="known camera roll in degrees (clockwise on screen); overrides the automatic level",
    )
    ap.add_argument("--no-level", action="store_true", help="measure against the photo's edges")
    ap.add_argument("--fast", action="store_true", help="one model pass (less stable, wider ±)")
    ap.add_argument("--model", default=None, help="another pose .task bundle (default: bundled)")


def options_from_args(args: argparse.Namespace) -> Any:
    from posture.analysis import AnalysisOptions

    return AnalysisOptions(
        stature_cm=args.height_cm,
        camera_roll_deg=args.camera_roll,
        auto_level=not args.no_level,
        refine=not args.fast,
        model_path=args.model,
    )


def analyze_path(path: Path, args: argparse.Namespace) -> Any:
    """Load + analyse one photo with the CLI's options (shared by analyze/report/compare)."""
    from posture.analysis import analyze
    from posture.imaging import load_photo

    photo = load_photo(path)
    return photo, analyze(photo, view=args.view, options=options_from_args(args))


def _with_findings(analysis: Any) -> Any:
    from posture.findings import attach_findings

    return attach_findings(analysis)


def _render(path: Path, photo: Any, analysis: Any, args: argparse.Namespace) -> str:
    """Write the annotated photo if asked; return the text to print for one photo."""
    if args.annotate:
        from posture.report.annotate import annotate, save_png

        out = Path(args.annotate)
        if args.batch:
            out = out.with_name(f"{out.stem}_{path.stem}{out.suffix or '.png'}")
        save_png(annotate(photo, analysis), out)
    if args.json or args.batch:
        return json.dumps(analysis.to_dict(), ensure_ascii=False)
    return _summary(path, analysis)


def _analyze_one(path: Path, args: argparse.Namespace) -> tuple[str | None, str | None]:
    """One photo of a batch -> (output text, error line). Runs in a worker process with --jobs."""
    try:
        photo, analysis = analyze_path(path, args)
    except PostureError as exc:
        return None, f"posture: {path.name}: {exc}"
    return _render(path, photo, _with_findings(analysis), args), None


def cmd_analyze(args: argparse.Namespace) -> int:
    paths = list(_photo_paths(args.photos))
    if not paths:
        raise PostureError("No photos found.", "Give a photo file or a folder of photos.")
    args.batch = len(paths) > 1
    if not args.batch:  # a single photo: its error is the command's error (exit 2, one line)
        photo, analysis = analyze_path(paths[0], args)
        print(_render(paths[0], photo, _with_findings(analysis), args))
        return 0
    jobs = args.jobs if args.jobs > 0 else (os.cpu_count() or 1)
    if jobs > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(jobs, len(paths)), mp_context=ctx) as pool:
            results = list(pool.map(_analyze_one, paths, [args] * len(paths)))
    else:
        results = [_analyze_one(p, args) for p in paths]
    status = 0
    for text, err in results:  # in input order
        if err is not None:
            print(err, file=sys.stderr)
            status = EXIT_USER_ERROR
        elif text is not None:
            print(text, flush=True)
    return status


def _summary(path: Path, analysis: Any) -> str:
    lines = [f"{path.name} ({analysis.view.value} view; {analysis.level['description']})"]
    for m in analysis.measurements.values():
        if m.available:
            lines.append(f"  {m.label:45s} {m.value:+7.2f} ± {m.uncertainty:.2f} {m.unit:18s} {m.side}")
        else:
            lines.append(f"  {m.label:45s} unavailable: {m.reason}")
    lines.extend(f"  warning: {w}" for w in analysis.warnings)
    return "\n".join(lines)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"analyze": cmd_analyze}


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="posture", description="Posture measurements from a standing photo.")
    sub = ap.add_subparsers(dest="command", required=True)
    a = sub.add_parser("analyze", help="measure one or more photos")
    a.add_argument("photos", nargs="+", help="photo files or folders")
    _add_analysis_options(a)
    a.add_argument("--json", action="store_true", help="print the JSON contract (one object per line)")
    a.add_argument("--annotate", metavar="OUT.png", help="write the annotated photo")
    a.add_argument(
        "--jobs", type=int, default=1, metavar="N",
        help="photos analysed in parallel for a folder (0 = one per CPU core)",
    )
    for extra in _extensions():
        extra(sub)
    return ap


def _extensions() -> list[Callable[[Any], None]]:
    """Sub-commands registered by their own modules (report, compare, db)."""
    from posture import compare_cli
    from posture.report import cli as report_cli
    from posture.store import cli as store_cli

    return [report_cli.register, compare_cli.register, store_cli.register]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None) or COMMANDS[args.command]
    try:
        return handler(args)
    except PostureError as exc:
        print(f"posture: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except Exception as exc:  # never a traceback for the user; keep the type for bug reports
        msg = f"posture: unexpected error ({type(exc).__name__}): {exc}. Please report this."
        print(msg, file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
