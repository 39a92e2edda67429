"""posture - the Streamlit app. Start it with `make run` (or `streamlit run app.py`).

Kept thin: the composition root. The page table lives in ``ui/nav.py``; each page lives in
``ui/pages/`` and exposes ``render()``; app.py pairs them and runs the navigation.
"""

from __future__ import annotations

import streamlit as st


def main() -> None:
    # an emoji icon: Streamlit makes it a data: URL. A ":material/..." page icon would be fetched
    # from fonts.gstatic.com at every load (the widgets' Material icons use the bundled font).
    st.set_page_config(page_title="posture", page_icon="🧍", layout="wide")
    from ui import session_reaper
    from ui.components.auth import require_access

    session_reaper.start()  # a closed tab's session (and its media URLs) ends after the TTL

    if not require_access():  # optional LAN password (POSTURE_ACCESS_PASSWORD or secrets)
        st.stop()
    from ui import nav
    from ui.pages import assessment, clients, compare, settings

    nav.navigation({
        nav.ASSESSMENT: assessment.render,
        nav.CLIENTS: clients.render,
        nav.COMPARE: compare.render,
        nav.SETTINGS: settings.render,
    }).run()


main()
