"""Settings page: the clinic's name, the therapist's name, an optional logo and the default face blur
that every PDF uses (:mod:`posture.settings`, a small file in the data directory, written
atomically). Only widgets and calls into the library; no maths here."""

from __future__ import annotations

import streamlit as st

from posture.errors import PostureError
from posture.report.model import md_escape
from posture.settings import (
    MAX_NAME_CHARS,
    ClinicSettings,
    load_settings,
    logo_path,
    remove_logo,
    save_settings,
    settings_path,
    store_logo,
)
from ui.components.errors import shown_as_error
from ui.components.layout import FORM_COL_PX, reflow_row

SAVED_KEY = "posture_settings_saved"  # a one-shot "saved" message across the rerun


def render() -> None:
    st.title("Settings")
    with shown_as_error("settings page"):
        _page()


def _page() -> None:
    current = load_settings()
    st.caption("Printed on every report and comparison PDF (and the ones in a client's export). "
               f"Kept on this machine only: {md_escape(str(settings_path()))}")
    if (said := st.session_state.pop(SAVED_KEY, None)) is not None:
        st.success(said)
    left, right = reflow_row(2, (FORM_COL_PX, FORM_COL_PX), vertical_alignment="top", gap="large")
    with left, st.form("clinic_settings"):
        clinic = st.text_input("Clinic name", value=current.clinic, max_chars=MAX_NAME_CHARS,
                               key="set_clinic")
        therapist = st.text_input("Therapist name", value=current.therapist, max_chars=MAX_NAME_CHARS,
                                  key="set_therapist")
        blur = st.checkbox("Blur the client's face in reports by default", value=current.blur_faces,
                           key="set_blur")
        logo = st.file_uploader("Logo (PNG or JPEG, optional)", type=["png", "jpg", "jpeg"],
                                key="set_logo")
        if st.form_submit_button("Save settings", type="primary", icon=":material/save:"):
            try:
                new = ClinicSettings(clinic=clinic, therapist=therapist, logo=current.logo,
                                     blur_faces=blur)
                if logo is not None:
                    new = store_logo(logo.getvalue(), new)
                save_settings(new)
            except PostureError as exc:
                st.error(str(exc))
                return
            st.session_state[SAVED_KEY] = "Settings saved: the next PDFs carry them."
            st.rerun()
    with right:
        st.subheader("Logo")
        path = logo_path(current)
        if path is None:
            st.caption("No logo set.")
        else:
            st.image(str(path), width=160)
            if st.button("Remove the logo", key="set_logo_remove", icon=":material/delete:"):
                save_settings(remove_logo(current))
                st.session_state[SAVED_KEY] = "Logo removed."
                st.rerun()
