"""Logging an unexpected failure so that it can be diagnosed without logging health data.

:func:`log_failure` writes the traceback (every frame's file, line and function, for the exception
and each one it was raised from) and the exception types, at ERROR on the app's logger, so it
reaches the server's log. It never writes an exception's MESSAGE or a frame's source line: those
may carry a file name, a client's name, a note or pixel values (an upload's name inside an error
text, a database error quoting its row), and photos, names and notes are never logged.
"""

from __future__ import annotations

import logging
import traceback

# Frames kept per exception (the innermost ones; a Streamlit rerun adds a deep runner stack).
MAX_FRAMES = 40
# Exceptions followed along __cause__ / __context__.
MAX_CHAIN = 5


def failure_text(what: str, exc: BaseException) -> str:
    """``"<what> failed: <Type>"`` and the traceback of ``exc`` and its causes, without messages
    or source lines."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < MAX_CHAIN:
        seen.add(id(current))
        frames = traceback.extract_tb(current.__traceback__)[-MAX_FRAMES:]
        lines = [f'  File "{f.filename}", line {f.lineno}, in {f.name}' for f in frames]
        kind = f"{type(current).__module__}.{type(current).__qualname__}"
        parts.append("Traceback (most recent call last):\n" + "\n".join(lines) + f"\n{kind}")
        nxt = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
        if nxt is not None:
            parts.append("raised while handling / from:")
        current = nxt
    return f"{what} failed: {type(exc).__name__}\n" + "\n".join(reversed(parts))


def log_failure(log: logging.Logger, what: str, exc: BaseException) -> None:
    """Log ``exc`` at ERROR with its traceback (see the module docstring for what is left out)."""
    log.error("%s", failure_text(what, exc))
