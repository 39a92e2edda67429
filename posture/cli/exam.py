"""``posture exam --anterior A.jpg --left B.jpg [--posterior C] [--right D] [--height-cm N]
[--confirm-stance] [--json] [-o visit.pdf]``: one visit, every photo with its own view.

Each photo is analysed on its own (one analysis per photo, the same options); the output is the visit
(schema ``posture.exam/1``): each view's measurements and findings, and the findings across views.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from posture.cli.options import options_from_args
from posture.errors import PostureError

VIEW_FLAGS = ("anterior", "posterior", "left", "right")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("exam", help="one visit: front, back and side photos together")
    p.add_argument("--anterior", "--front", metavar="PHOTO", help="the front photo")
    p.add_argument("--posterior", "--back", metavar="PHOTO", help="the back photo")
    p.add_argument("--left", metavar="PHOTO", help="the side photo, client's LEFT side toward the camera")
    p.add_argument("--right", metavar="PHOTO", help="the side photo, client's RIGHT side toward the camera")
    p.add_argument("--height-cm", type=float, default=None, help="client's height: gives centimetres")
    p.add_argument("--no-level", action="store_true", help="measure against the photos' edges")
    p.add_argument("--fast", action="store_true", help="one model pass per photo (less stable, wider ±)")
    p.add_argument("--model", default=None, help="another pose .task bundle (default: bundled)")
    p.add_argument(
        "--confirm-stance", action="store_true",
        help="the poses in the photos are how the client habitually stands: show the findings even "
        "when a photo check finds the stance or the view not neutral (recorded in the JSON)",
    )
    p.add_argument("--date", default=None, help="the visit's date (YYYY-MM-DD; default today)")
    p.add_argument("--json", action="store_true", help="print the visit JSON (posture.exam/1)")
    p.add_argument("-o", "--output", metavar="visit.pdf", help="write the visit's PDF report")
    p.set_defaults(handler=cmd_exam, camera_roll=None, person=None)


def cmd_exam(args: argparse.Namespace) -> int:
    from datetime import date

    from posture.exam import analyze_visit
    from posture.imaging import load_photo

    given = {v: getattr(args, v) for v in VIEW_FLAGS if getattr(args, v)}
    if not given:
        raise PostureError(
            "No photos given.", "Give at least one of --anterior, --posterior, --left, --right."
        )
    when = args.date or date.today().isoformat()
    try:
        date.fromisoformat(when)
    except ValueError:
        raise PostureError(f"Not a date: {when!r}.", "Use --date YYYY-MM-DD.") from None
    photos = {v: load_photo(Path(p)) for v, p in given.items()}
    visit = analyze_visit(photos, options_from_args(args), date=when)
    if args.output:
        from posture.report.visit_pdf import visit_pdf

        out = Path(args.output)
        try:
            out.write_bytes(visit_pdf(visit, photos))
        except OSError as exc:
            raise PostureError(f"Could not write {out} ({exc.strerror}).",
                               "Choose a writable path.") from None
    if args.json:
        print(json.dumps(visit.to_dict(), ensure_ascii=False))
        return 0
    for line in summary_lines(visit, given):
        print(line)
    return 0


def summary_lines(visit: Any, given: dict[str, str]) -> list[str]:
    """The visit in plain text: each view's measurements (value ± its 95% uncertainty, the side in
    words) and findings, then the findings across views with the views they rest on."""
    from posture.exam import VIEW_TITLES
    from posture.formatting import format_value

    lines: list[str] = [f"Visit {visit.date}: {', '.join(visit.view_names)}"]
    for v, a in visit.views.items():
        lines.append(f"{VIEW_TITLES[v]}: {Path(given.get(v.value, '')).name}")
        for m in a.measurements.values():
            value = (format_value(m.value, m.unit, m.uncertainty) if m.available
                     else f"unavailable ({m.reason})")
            side = f" ({m.side})" if m.available else ""
            lines.append(f"  {m.label}: {value}{side}")
        if a.capture is not None and a.capture.holds_findings:
            lines.append(f"  findings held: {a.capture.hold_reason()}")
        for f in a.findings:
            lines.append(f"  finding: {f.title} [{f.severity}]")
        for w in a.warnings:
            lines.append(f"  warning: {w}")
    lines.append("Findings across views:")
    if not visit.across:
        lines.append("  none (no pattern across the views is clear beyond its ± and noise band)")
    for cf in visit.across:
        d = cf.to_dict()
        lines.append(f"  {cf.finding.title} [{cf.finding.severity}] - rests on the {d['views_text']}")
        for n in cf.notes:
            lines.append(f"    {n}")
    return lines
