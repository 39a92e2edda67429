"""``posture report PHOTO [--view ...] [--height-cm N] [--client NAME] [--notes TEXT]
[--blur-faces] [--annotated OUT.png] -o report.pdf``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from posture.cli.options import add_analysis_options, analyze_path
from posture.errors import PostureError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("report", help="write a PDF report for one photo")
    p.add_argument("photo", help="photo file")
    add_analysis_options(p)
    p.add_argument("--client", default=None, help="client's name, printed as given")
    p.add_argument("--notes", default=None, help="therapist notes, printed as given")
    p.add_argument("--blur-faces", action="store_true", help="blur the client's face in the PDF")
    p.add_argument("--annotated", metavar="OUT.png", default=None, help="also write the annotated photo")
    p.add_argument("-o", "--output", required=True, metavar="REPORT.pdf", help="where to write the PDF")
    p.set_defaults(handler=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from posture.findings import attach_findings
    from posture.report.annotate import annotate, save_png
    from posture.report.model import build_report
    from posture.report.pdf import render_pdf

    photo, analysis = analyze_path(Path(args.photo), args)
    analysis = attach_findings(analysis)
    rgb = annotate(photo, analysis)
    report = build_report(photo, analysis, client=args.client, notes=args.notes)
    data = render_pdf(report, rgb, blur_faces=args.blur_faces)
    out = Path(args.output)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        if args.annotated:
            save_png(rgb, args.annotated)
    except OSError as exc:
        raise PostureError(f"Cannot write {exc.filename or out}: {exc.strerror or exc}.",
                           "Choose a folder you can write to.") from None
    print(f"wrote {out} ({len(data) // 1024} KB)")
    if report.findings_held:  # the PDF says so too; the terminal should not hide it
        print(f"  findings: {report.findings_held} (option --confirm-stance)")
    return 0
