"""``posture analyze PHOTO... [--view ...] [--json] [--annotate OUT.png] [--jobs N]``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from posture.cli.options import EXIT_USER_ERROR, add_analysis_options, analyze_path
from posture.errors import PostureError


def register(subparsers: Any) -> None:
    a = subparsers.add_parser("analyze", help="measure one or more photos")
    a.add_argument("photos", nargs="+", help="photo files or folders")
    add_analysis_options(a)
    a.add_argument("--json", action="store_true", help="print the JSON contract (one object per line)")
    a.add_argument(
        "--annotate", metavar="OUT.png",
        help="write the annotated photo; with several photos one file each, named after the whole "
        "photo file name: OUT_x.jpg.png and OUT_x.png.png for x.jpg and x.png (a name met twice, "
        "e.g. in two folders, gets -2, -3: OUT_x.jpg-2.png)",
    )
    a.add_argument(
        "--jobs", type=int, default=1, metavar="N",
        help="photos analysed in parallel for a folder (0 = one per CPU core)",
    )
    a.set_defaults(handler=cmd_analyze)


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


def _with_findings(analysis: Any) -> Any:
    from posture.findings import attach_findings

    return attach_findings(analysis)


def _render(path: Path, photo: Any, analysis: Any, args: argparse.Namespace) -> str:
    """Write the annotated photo if asked; return the text to print for one photo."""
    if args.annotate:
        from posture.report.annotate import annotate, save_png

        out = args.annotate_paths.get(path, Path(args.annotate))
        save_png(annotate(photo, analysis), out)
    if args.json or args.batch:
        return json.dumps(analysis.to_dict(), ensure_ascii=False)
    return _summary(path, analysis)


def annotate_paths(out: Path, photos: Sequence[Path]) -> dict[Path, Path]:
    """One annotated-image path per photo of a batch: ``OUT_<photo file name><suffix>``, the whole
    file name (``x.jpg`` and ``x.png`` must not both become ``OUT_x.png``), numbered ``-2``, ``-3``
    when a file name comes twice (the same name in two folders). Distinct for distinct photos."""
    suffix = out.suffix or ".png"
    taken: set[str] = set()
    paths: dict[Path, Path] = {}
    for photo in photos:
        if photo in paths:
            continue
        stem = f"{out.stem}_{photo.name}"
        name, n = f"{stem}{suffix}", 1
        while name.lower() in taken:  # case-insensitive file systems too
            n += 1
            name = f"{stem}-{n}{suffix}"
        taken.add(name.lower())
        paths[photo] = out.with_name(name)
    return paths


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
    args.annotate_paths = (
        annotate_paths(Path(args.annotate), paths) if args.annotate and args.batch else {}
    )
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
    lines.extend(_capture_lines(analysis))
    return "\n".join(lines)


def _capture_lines(analysis: Any) -> list[str]:
    """The photo check (each failed check with what to do), then the findings or why they are held."""
    from posture.findings import findings_held

    capture = analysis.capture
    if capture is None:
        return []
    lines = [f"  photo check: {c.message}" for c in capture.failed] or ["  photo check: all checks passed"]
    if capture.confirmed and capture.stance_failed:
        lines.append("  photo check: the stance was confirmed as the client's habit (--confirm-stance)")
    held = findings_held(analysis)
    if held:
        lines.append(f"  findings: {held} (option --confirm-stance)")
    lines.extend(f"  finding: {f.title} ({f.severity})" for f in analysis.findings)
    return lines
