"""The app's pages, one module each with a ``render()``; app.py registers them through ``ui.nav``.

A page imports ``ui.nav``, ``ui.components`` and the Streamlit-free helpers (``ui.state``,
``ui.saving``), never another page: it leads to one with ``ui.nav.switch_to``."""
