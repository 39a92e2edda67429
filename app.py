"""posture - the Streamlit app. Start it with `make run` (or `streamlit run app.py`).

Kept thin: page set-up and navigation only; each page lives in ``ui/`` and exposes ``render()``.
"""

from __future__ import annotations

import streamlit as st


def main() -> None:
    st.set_page_config(page_title="posture", page_icon=":material/accessibility_new:", layout="wide")
    from ui.auth import require_access

    if not require_access():  # optional LAN password (POSTURE_ACCESS_PASSWORD or secrets)
        st.stop()
    from ui.assessment_page import render as assessment
    from ui.clients_page import render as clients
    from ui.compare_page import render as compare

    st.navigation([
        st.Page(assessment, title="New assessment", icon=":material/add_a_photo:",
                url_path="assessment", default=True),
        st.Page(clients, title="Clients", icon=":material/group:", url_path="clients"),
        st.Page(compare, title="Compare", icon=":material/compare:", url_path="compare"),
    ]).run()


main()
