"""Every failure on a page becomes ONE clear ``st.error`` message, never a traceback on screen.

:func:`shown_as_error` wraps a page's body (or one action of it): a
:class:`~posture.errors.PostureError` (a :class:`~posture.store.StoreError` included) is shown with
its own message and hint; anything else is logged with its traceback (:func:`ui.logs.log_failure`:
no photo, name or note) and shown as the page's plain message. Streamlit's own control flow
(``st.rerun``, ``st.stop``, ``st.switch_page``) is a ``BaseException`` and passes through.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from posture.errors import PostureError
from posture.report.model import md_escape
from ui.logs import log_failure

log = logging.getLogger("posture.app")

STORE_TROUBLE = (
    "The client records could not be read or written. Check the database location "
    "(POSTURE_DATA_DIR / POSTURE_DATABASE_URL) and try again; if it keeps happening, restart the app."
)


@contextmanager
def shown_as_error(what: str, message: str = STORE_TROUBLE) -> Iterator[None]:
    """Run the block; a failure in it ends the block and shows one ``st.error`` instead."""
    try:
        yield
    except PostureError as exc:  # its text may quote a name or a file's content: shown literally
        st.error(md_escape(str(exc)))
    except Exception as exc:
        log_failure(log, what, exc)
        st.error(message)
