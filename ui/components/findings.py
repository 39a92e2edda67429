"""Findings on screen: one box per finding (hypotheses for the therapist), the matched exercises, the
red flags.

Every text here is shown by Streamlit as markdown, and part of it is not ours (the exercise library is
a therapist-editable file), so each piece is passed through :func:`posture.report.model.md_escape`,
the escaping the report model's on-screen sections use: it shows literally, never as markup.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from posture.report.model import md_escape
from ui.components import report_bridge
from ui.components.capture import confirm_ui

SEVERITY_ICON = {"marked": ":material/error:", "moderate": ":material/warning:",
                 "mild": ":material/info:"}
NO_SEVERITY_ICON = ":material/check_circle:"


def _bullets(items: Any) -> str:
    return "\n".join(f"- {md_escape(str(x))}" for x in items)


def finding_ui(finding: Any) -> None:
    """One finding in a bordered box: icon, title and severity, text, evidence, hands-on checks."""
    title = str(getattr(finding, "title", "Finding"))
    severity = str(getattr(finding, "severity", ""))
    with st.container(border=True):
        icon = SEVERITY_ICON.get(severity, NO_SEVERITY_ICON)
        st.markdown(f"{icon} **{md_escape(title)}**" + (f" · {md_escape(severity)}" if severity else ""))
        text = getattr(finding, "text", "")
        if text:
            st.markdown(md_escape(str(text)))
        evidence = [str(getattr(e, "text", "")) for e in getattr(finding, "evidence", ())]
        if any(evidence):
            st.caption("Based on: " + "; ".join(md_escape(e) for e in evidence if e))
        checks = tuple(getattr(finding, "checks", ()))
        if checks:
            st.markdown("To check by hand:\n" + _bullets(checks))


def exercises_ui(found: tuple[Any, ...]) -> None:
    """The exercises matched to the findings, one expander each (a note when the library failed)."""
    rx, rx_note = report_bridge.prescriptions(found)
    if rx_note:  # may quote the therapist's exercise file
        st.info(md_escape(rx_note))
    if not rx:
        return
    st.subheader("Exercises to consider")
    for p in rx:
        ex = p.exercise
        with st.expander(md_escape(f"{ex.name} - {p.side_words} - {ex.dose}")):
            st.markdown(md_escape(ex.how))
            if ex.cues:
                st.markdown("Cues:\n" + _bullets(ex.cues))
            if ex.contraindications:
                st.markdown("Do not use when:\n" + _bullets(ex.contraindications))
            if p.reasons:
                st.caption("For: " + "; ".join(md_escape(r) for r in p.reasons))


def findings_ui(analysis: Any, note: str | None) -> None:
    """Findings (hypotheses for the therapist), matched exercises, red flags. While the photo check
    holds the findings back, the reason in their place and the stance confirmation (the red flags
    are shown regardless)."""
    if note:
        st.info(md_escape(note))
    held = report_bridge.findings_held(analysis)
    if not analysis.findings and not held:
        return
    disclaimer, flags_title, flags = report_bridge.clinical_texts()
    st.subheader("Findings")
    if disclaimer:
        st.caption(md_escape(disclaimer))
    if held:
        st.info(md_escape(held), icon=":material/pan_tool:")
    confirm_ui(analysis)
    for f in analysis.findings:
        finding_ui(f)
    exercises_ui(analysis.findings)
    if flags:
        with st.expander(md_escape(flags_title or "Red flags"), icon=":material/emergency:"):
            st.markdown(_bullets(flags))
