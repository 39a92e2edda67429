"""Command line: ``posture analyze|report|compare|exam|db ...`` (one module per sub-command).

Errors print one line on stderr naming the problem and what to do, and exit with status 2.

:mod:`.options` the options the sub-commands share; :mod:`.analyze`, :mod:`.report`,
:mod:`.compare`, :mod:`.db` one sub-command each (``register(subparsers)`` + its handler).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from posture.cli import analyze, compare, db, exam, report, users
from posture.cli.options import EXIT_USER_ERROR
from posture.errors import PostureError

__all__ = ["EXIT_USER_ERROR", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="posture", description="Posture measurements from a standing photo.")
    sub = ap.add_subparsers(dest="command", required=True)
    for command in (analyze, report, compare, exam, db, users):
        command.register(sub)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
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
