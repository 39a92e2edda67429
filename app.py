"""posture - the Streamlit app. Start it with `make run` (or `streamlit run app.py`).

Kept thin: page set-up and navigation only; each page lives in ``ui/`` and exposes ``render()``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

import streamlit as st


def _optional_page(module: str) -> Callable[[], None] | None:
    """``module.render`` when that page module exists (other pages arrive independently)."""
    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        found = False
    if not found:
        return None
    mod = importlib.import_module(module)
    render: Callable[[], None] | None = getattr(mod, "render", None)
    return render


def main() -> None:
    st.set_page_config(page_title="posture", page_icon=":material/accessibility_new:", layout="wide")
    from ui.auth import require_access

    if not require_access():  # optional LAN password (POSTURE_ACCESS_PASSWORD or secrets)
        st.stop()
    from ui.assessment_page import render as assessment

    pages = [st.Page(assessment, title="New assessment", icon=":material/add_a_photo:",
                     url_path="assessment", default=True)]
    for module, title, icon, path in (
        ("ui.clients_page", "Clients", ":material/group:", "clients"),
        ("ui.compare_page", "Compare", ":material/compare:", "compare"),
    ):
        render = _optional_page(module)
        if render is not None:
            pages.append(st.Page(render, title=title, icon=icon, url_path=path))
    st.navigation(pages).run()


main()
