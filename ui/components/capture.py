"""The photo check on screen (:mod:`posture.capture`), above the measurements, and the therapist's
confirmation that the pose is the client's own habit, which releases the findings a failed stance or
view check holds back.

The confirmation is a checkbox per photo and view; :func:`with_confirmation` puts its value into the
analysis (``dataclasses.replace`` on the capture: no model pass), so that the findings, the PDF and
the saved analysis JSON (``capture.confirmed``) all carry it. Texts are markdown-escaped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import streamlit as st

from posture.analysis import Analysis
from posture.report.model import md_escape

CONFIRM_LABEL = "This is how the client habitually stands (confirm to see findings)"
CONFIRM_HELP = (
    "The photo check found the stance or the view not neutral, so the measured pattern may be the "
    "pose, not the client's posture. Tick this only when this pose is how the client really stands; "
    "the confirmation is saved with the assessment."
)
CONFIRM_VIEW_LABEL = "The declared view is right (confirm to see findings)"
CONFIRM_VIEW_HELP = (
    "The face or the pose model disagrees with the declared view; with the wrong view the client's "
    "left and right are swapped. Change the view in the sidebar, or tick this when the declared view "
    "is right; the confirmation is saved with the assessment."
)
ALL_PASSED = "All checks passed: a neutral stance, the whole body in the frame, the camera level."
NOT_CHECKED = "Not available for this analysis."


def confirm_key(analysis: Analysis) -> str:
    """The checkbox's session-state key: one per photo and declared view."""
    return f"confirm_stance_{str(analysis.image.get('sha256', ''))[:16]}_{analysis.view.value}"


def with_confirmation(analysis: Analysis, session: Mapping[str, Any]) -> Analysis:
    """The analysis with the checkbox's confirmation in its photo check (unchanged when the photo
    check did not fail a stance or view check, or when the box was never shown)."""
    capture = analysis.capture
    if capture is None or not capture.stance_failed:
        return analysis
    confirmed = bool(session.get(confirm_key(analysis), capture.confirmed))
    if confirmed == capture.confirmed:
        return analysis
    return dataclasses.replace(analysis, capture=capture.with_confirmation(confirmed))


def shown_messages(analysis: Analysis) -> frozenset[str]:
    """The failed checks' messages the photo check shows (a warning with the same text, e.g. the
    view conflict, need not be shown again)."""
    capture = analysis.capture
    return frozenset(c.message for c in capture.failed) if capture is not None else frozenset()


def photo_check_ui(analysis: Analysis) -> None:
    """One line per failed check (what to do), or one line that all passed."""
    capture = analysis.capture
    st.subheader("Photo check")
    if capture is None:
        st.caption(NOT_CHECKED)
        return
    if capture.ok:
        st.success(ALL_PASSED, icon=":material/check_circle:")
        return
    for c in capture.failed:
        st.warning(md_escape(c.message), icon=":material/photo_camera:")


def confirm_ui(analysis: Analysis) -> None:
    """The stance confirmation checkbox, shown while a stance or view check failed (ticked or not)."""
    capture = analysis.capture
    if capture is None or not capture.stance_failed:
        return
    key = confirm_key(analysis)
    if key not in st.session_state:
        st.session_state[key] = capture.confirmed
    if capture.view_only:
        st.checkbox(CONFIRM_VIEW_LABEL, key=key, help=CONFIRM_VIEW_HELP)
    else:
        st.checkbox(CONFIRM_LABEL, key=key, help=CONFIRM_HELP)
