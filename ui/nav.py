"""What the pages share: the page table, the selected client, the clinic's store.

* The pages are defined ONCE here (:data:`PAGES`: title, icon, URL path). app.py, the composition
  root, pairs each entry with its page's ``render`` and registers them (:func:`navigation`); a page
  that leads to another one calls :func:`switch_to` with the target's entry. So this module imports
  no page and the pages never import each other: ``app.py -> ui.pages.* -> ui.nav / ui.components``.
* The selected client (:func:`selected_client`, :func:`select_client`, :func:`forget_client`) is one
  ``st.session_state`` key that the Clients, Compare and New-assessment pages all follow.
* The store (:func:`get_store`) is opened once per database URL and process with
  ``st.cache_resource`` (an engine, no health data); :func:`clear_store_cache` forgets it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from posture.store import Store, default_url, open_store

SELECTED_CLIENT = "posture_selected_client"


@dataclass(frozen=True)
class PageSpec:
    """One page of the app as the navigation shows it."""

    title: str
    icon: str
    url_path: str
    default: bool = False


ASSESSMENT = PageSpec("New assessment", ":material/add_a_photo:", "assessment", default=True)
CLIENTS = PageSpec("Clients", ":material/group:", "clients")
COMPARE = PageSpec("Compare", ":material/compare:", "compare")
SETTINGS = PageSpec("Settings", ":material/settings:", "settings")
PAGES: tuple[PageSpec, ...] = (ASSESSMENT, CLIENTS, COMPARE, SETTINGS)

# url_path -> the st.Page registered by navigation(): st.switch_page needs that page's source
_registered: dict[str, Any] = {}


def page(spec: PageSpec, render: Callable[[], None]) -> Any:
    """The ``st.Page`` of ``spec`` drawn by ``render``."""
    return st.Page(render, title=spec.title, icon=spec.icon, url_path=spec.url_path, default=spec.default)


def navigation(renders: Mapping[PageSpec, Callable[[], None]]) -> Any:
    """``st.navigation`` over :data:`PAGES` in their order, each drawn by ``renders[spec]``."""
    pages = [page(spec, renders[spec]) for spec in PAGES]
    _registered.update({spec.url_path: p for spec, p in zip(PAGES, pages, strict=True)})
    return st.navigation(pages)


def switch_to(spec: PageSpec) -> None:
    """Go to another page of the app (``st.switch_page``: ends this run of the script)."""
    target = _registered.get(spec.url_path)
    if target is None:
        raise RuntimeError(f"the page {spec.url_path!r} is not registered: start the app with app.py")
    st.switch_page(target)


def selected_client() -> int | None:
    """The client the pages are looking at, or None."""
    cid = st.session_state.get(SELECTED_CLIENT)
    return cid if isinstance(cid, int) else None


def select_client(cid: int) -> None:
    st.session_state[SELECTED_CLIENT] = cid


def forget_client() -> None:
    st.session_state.pop(SELECTED_CLIENT, None)


@st.cache_resource(show_spinner=False)  # type: ignore[untyped-decorator]
def _store_at(url: str) -> Store:
    """One open store per database URL and process (an engine, no health data)."""
    return open_store(url)


def get_store() -> Store:
    """The clinic's store (POSTURE_DATABASE_URL, else POSTURE_DATA_DIR/posture.db), read from the
    environment on every call so that a changed location (e.g. a test's tmp dir) is honoured."""
    store: Store = _store_at(default_url())
    return store


def clear_store_cache() -> None:
    """Close and forget the cached stores (tests switch databases)."""
    _store_at.clear()
