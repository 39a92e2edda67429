"""What a person types (a client's name, notes, the clinic's and therapist's names), cleaned once.

Every place that stores or prints typed text goes through here: the store (a client's name and notes,
an assessment's notes), the clinic settings and the app's inputs (their ``max_chars`` are these
limits). Rules:

* Length: at most :data:`CLIENT_NAME_MAX` characters for a client's name or code,
  :data:`NOTES_MAX` for notes, :data:`PRACTICE_NAME_MAX` for the clinic's / therapist's names. Longer
  text is REFUSED with a :class:`TextTooLongError` that says the limit and the length, never cut
  silently (a cut name could be another client's).
* Invisible characters are removed: C0/C1 control characters (notes keep their line breaks and
  tabs; a one-line name turns them into a space), the bidirectional overrides and isolates
  (U+202A-U+202E, U+2066-U+2069), the direction marks U+200E, U+200F, U+061C, and the byte-order
  mark U+FEFF. A right-to-left override could otherwise make "Anna" print as another name, or hide
  the real text of a note on a report.
* Unicode NFC (one spelling of "é"), surrounding whitespace dropped.

For display, :func:`unlinked` breaks what Markdown renderers (Streamlit's remark-gfm) would turn
into a link even when every special character is backslash-escaped: ``http://``, ``https://``,
``www.`` and the ``@`` of an e-mail address get an invisible WORD JOINER (U+2060), so the text
shows as typed but is never a link (nor a remote image the browser would fetch).
"""

from __future__ import annotations

import re
import unicodedata

from posture.errors import PostureError

# A client's name or pseudonymous code: what fits a report's header line and a picker.
CLIENT_NAME_MAX = 120
# A session's or a client's notes: about a page of a report.
NOTES_MAX = 2000
# The clinic's and the therapist's names printed on every page's header.
PRACTICE_NAME_MAX = 120

# bidi embeddings/overrides, isolates, direction marks, the Arabic letter mark and the BOM
BIDI_CHARS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)] + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\u200e", "\u200f", "\u061c", "\ufeff"]
)
# line and paragraph separators: a line break in notes, a space in a name
_LINE_SEPARATORS = ("\u2028", "\u2029", "\u0085")
WORD_JOINER = "\u2060"
# what remark-gfm's autolink-literal transform looks for (after escapes are resolved)
_AUTOLINK = re.compile(r"(?i)(https?|ftp|mailto|xmpp)(:)|(www)(\.)|(@)")


class TextTooLongError(PostureError):
    code = "text_too_long"
    default_hint = "Shorten it (a pseudonymous code is enough for a name)."


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) == "Cc" or ch in BIDI_CHARS


def strip_invisible(text: str, *, multiline: bool = False) -> str:
    """``text`` in NFC without control, bidi-override/isolate and direction-mark characters.

    ``multiline`` keeps line breaks (``\\r\\n``/``\\r`` become ``\\n``) and tabs; otherwise every line
    break or tab becomes one space. Nothing else is changed (leading/trailing spaces included)."""
    s = unicodedata.normalize("NFC", str(text)).replace("\r\n", "\n").replace("\r", "\n")
    for sep in _LINE_SEPARATORS:
        s = s.replace(sep, "\n")
    keep = ("\n", "\t") if multiline else ()
    out = []
    for ch in s:
        if ch in keep:
            out.append(ch)
        elif ch in ("\n", "\t"):
            out.append(" ")
        elif not _is_control(ch):
            out.append(ch)
    return "".join(out)


def clean_text(text: str | None, *, limit: int, what: str, multiline: bool = False) -> str:
    """``text`` without invisible characters (:func:`strip_invisible`) and surrounding whitespace;
    :class:`TextTooLongError` when what is left is longer than ``limit`` characters (``what`` names
    the field in the message, e.g. "client's name")."""
    s = strip_invisible(text or "", multiline=multiline).strip()
    if len(s) > limit:
        raise TextTooLongError(f"The {what} can be at most {limit} characters (this one has {len(s)}).")
    return s


def client_name(text: str | None) -> str:
    """A client's name or code, cleaned and checked (at most :data:`CLIENT_NAME_MAX`); may be empty
    (the caller decides whether a name is required)."""
    return clean_text(text, limit=CLIENT_NAME_MAX, what="client's name or code")


def notes(text: str | None) -> str:
    """Notes (a client's or a session's), cleaned and checked (at most :data:`NOTES_MAX`); line
    breaks kept."""
    return clean_text(text, limit=NOTES_MAX, what="notes", multiline=True)


def practice_name(text: str | None, what: str) -> str:
    """The clinic's or the therapist's name (``what``), at most :data:`PRACTICE_NAME_MAX`."""
    return clean_text(text, limit=PRACTICE_NAME_MAX, what=what)


def unlinked(text: str) -> str:
    """``text`` (invisible characters removed, line breaks kept) with a WORD JOINER inside every
    ``scheme:``, ``www.`` and ``@`` so no Markdown renderer makes a link of it; it reads the same."""

    def _join(m: re.Match[str]) -> str:
        if m.group(5):
            return WORD_JOINER + "@"
        word, mark = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        return word + WORD_JOINER + mark

    return _AUTOLINK.sub(_join, strip_invisible(text, multiline=True))
