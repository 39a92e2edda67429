"""The visit on the New assessment page: the views of one session (front, back, both sides), kept
together in the session while the therapist takes them one photo at a time.

Each view is its own photo analysed on its own (the page's one ``analyze()`` per photo, cached by
photo and view) with its own hand corrections (:mod:`ui.state` keys corrections by photo and view),
so adding, retaking (a new photo for a view already there) or removing a view never touches another.
A view of the visit can be reopened on the page to correct its landmarks (:func:`opened_inputs`).
Saving goes through the store's visit API (:func:`posture.store.save_visit`: the visit row and one
assessment + photo per view, same client, same date, one transaction). The visit PDF is
:func:`posture.report.visit_pdf.visit_pdf`. No maths here; photos, names and notes are never logged.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from posture.analysis import Analysis
from posture.errors import PostureError
from posture.exam import VIEW_ORDER, VIEW_TITLES, build_visit
from posture.imaging import Photo
from posture.report.model import md_escape
from posture.sides import View
from posture.store import ConsentError, Store, StoreError, save_visit
from ui import nav, saving
from ui.logs import log_failure

log = logging.getLogger("posture.app")

VISIT_KEY = "posture_visit"  # {view value: VisitView}
OPEN_KEY = "posture_visit_open"  # (view value, the sidebar's (sha, view) when it was opened)
SAVED_KEY = "posture_visit_saved"  # {"fingerprint", "client_id", "ids", "name"}
ERROR_KEY = "posture_visit_error"
VISIT_HELP = (
    "A visit holds up to four photos of one session (front, back, left and right side), each "
    "analysed on its own with its own hand corrections. Take the next photo in the sidebar and add "
    "it; a new photo for a view already in the visit replaces it (retake)."
)


@dataclass(frozen=True)
class VisitView:
    """One photo of the visit: its bytes (to reopen it), the analysis input and the base analysis
    (before hand corrections, which stay in the session's correction store)."""

    view: str
    data: bytes
    sha256: str
    stature_cm: float | None
    photo: Photo
    base: Analysis


def views(ss: MutableMapping[str, Any]) -> dict[str, VisitView]:
    """The visit's views in :data:`posture.exam.VIEW_ORDER`."""
    held = ss.get(VISIT_KEY) or {}
    return {v.value: held[v.value] for v in VIEW_ORDER if v.value in held}


def add_view(ss: MutableMapping[str, Any], item: VisitView) -> None:
    """Add ``item`` to the visit; a view already there is replaced (a retake)."""
    held = dict(ss.get(VISIT_KEY) or {})
    held[item.view] = item
    ss[VISIT_KEY] = held


def remove_view(ss: MutableMapping[str, Any], view: str) -> None:
    held = dict(ss.get(VISIT_KEY) or {})
    held.pop(view, None)
    ss[VISIT_KEY] = held
    if (ss.get(OPEN_KEY) or ("",))[0] == view:
        ss.pop(OPEN_KEY, None)


def clear(ss: MutableMapping[str, Any]) -> None:
    for key in (VISIT_KEY, OPEN_KEY):
        ss.pop(key, None)


def open_view(ss: MutableMapping[str, Any], view: str, sidebar: tuple[str, str] | None) -> None:
    ss[OPEN_KEY] = (view, sidebar)


def close_view(ss: MutableMapping[str, Any]) -> None:
    ss.pop(OPEN_KEY, None)


def opened(ss: MutableMapping[str, Any], sidebar: tuple[str, str] | None) -> VisitView | None:
    """The visit's view reopened on the page, or None. A new photo or view in the sidebar closes it
    (the therapist moved on)."""
    value = ss.get(OPEN_KEY)
    if not value:
        return None
    view, at_open = value
    item = views(ss).get(view)
    if item is None or at_open != sidebar:
        ss.pop(OPEN_KEY, None)
        return None
    return item


def opened_note(item: VisitView) -> None:
    """Says which of the visit's photos the page shows, with the way back to the sidebar's."""
    with st.container(horizontal=True, gap="small", vertical_alignment="center", key="visit_opened"):
        st.info(f"The visit's {label(item.view).lower()} photo: correct its landmarks here.",
                icon=":material/edit:")
        if st.button("Back to the sidebar's photo", key="visit_close", icon=":material/close:"):
            close_view(st.session_state)
            st.rerun()


def label(view: str) -> str:
    return VIEW_TITLES[View.parse(view)]


Corrected = Callable[[Analysis], Analysis]


def corrected_views(ss: MutableMapping[str, Any], correct: Corrected) -> dict[str, tuple[Photo, Analysis]]:
    """Each view's (photo, analysis with ITS hand corrections and confirmation)."""
    return {v: (item.photo, correct(item.base)) for v, item in views(ss).items()}


def fingerprint(done: dict[str, tuple[Photo, Analysis]]) -> str:
    return "|".join(f"{v}:{saving.fingerprint(a)}" for v, (_, a) in done.items())


def visit_ui(
    photo: Photo,
    base: Analysis,
    stature_cm: float | None,
    data: bytes,
    correct: Corrected,
    sidebar: tuple[str, str] | None,
) -> None:
    """The visit's panel: add / retake the photo on the page, the views held (open, remove), the
    visit PDF and "Save the visit" (with the save form's client, consent, notes and date)."""
    ss = st.session_state
    st.subheader("Visit")
    st.caption(VISIT_HELP)
    held = views(ss)
    here = base.view.value
    item = held.get(here)
    with st.container(horizontal=True, gap="small", key="visit_actions"):
        if item is not None and item.sha256 == str(base.image["sha256"]):
            st.caption(f"This photo is the visit's {label(here).lower()} view.")
        else:
            words = (f"Retake: use this photo for the {label(here).lower()} view" if item is not None
                     else f"Add this photo to the visit as {label(here).lower()}")
            if st.button(words, key="visit_add", icon=":material/add_a_photo:"):
                add_view(ss, VisitView(here, data, str(base.image["sha256"]), stature_cm, photo, base))
                ss.pop(SAVED_KEY, None)
                st.rerun()
    held = views(ss)
    if not held:
        st.caption("No view in the visit yet.")
        return
    for v, it in held.items():
        with st.container(horizontal=True, gap="small", vertical_alignment="center",
                          key=f"visit_row_{v}"):
            hand = len(correct(it.base).manual)
            st.markdown(f"**{md_escape(label(v))}**" + (f" · {hand} hand-placed" if hand else ""))
            if st.button("Open", key=f"visit_open_{v}", icon=":material/edit:",
                         help="Show this view's photo on the page to correct its landmarks."):
                open_view(ss, v, sidebar)
                st.rerun()
            if st.button("Remove", key=f"visit_remove_{v}", icon=":material/delete:"):
                remove_view(ss, v)
                ss.pop(SAVED_KEY, None)
                st.rerun()
    done = corrected_views(ss, correct)
    _pdf_ui(done)
    _save_ui(done)


def _visit_date(ss: MutableMapping[str, Any]) -> dt.date:
    when = ss.get("save_date") or dt.date.today()
    return when if isinstance(when, dt.date) else dt.date.today()


def _pdf_ui(done: dict[str, tuple[Photo, Analysis]]) -> None:
    ss = st.session_state

    def make_pdf() -> bytes:
        from posture.report.visit_pdf import visit_pdf

        visit = build_visit({v: a for v, (_, a) in done.items()}, date=_visit_date(ss).isoformat(),
                            notes=str(ss.get("save_notes") or ""))
        client = str(ss.get("report_client") or "").strip() or None
        return visit_pdf(visit, {v: p for v, (p, _) in done.items()}, client=client)

    st.download_button(
        f"Download the visit PDF ({len(done)} view{'s' * (len(done) != 1)})", make_pdf,
        file_name=f"posture-visit-{dt.date.today().isoformat()}.pdf", mime="application/pdf",
        on_click="ignore", icon=":material/picture_as_pdf:", key="visit_pdf",
    )


def _save(store: Store, done: dict[str, tuple[Photo, Analysis]], fp: str) -> None:
    """The "Save the visit" callback: a new client (with consent) or the chosen one, then
    :func:`posture.store.save_visit` (one visit row, one assessment + photo per view, one date),
    all in one transaction."""
    ss = st.session_state
    ss.pop(ERROR_KEY, None)
    new = ss.get("save_mode") != "Existing client"
    chosen = ss.get("save_client")
    client_id: int | None = None if new or chosen is None else int(chosen)
    name_typed = str(ss.get("save_new_name") or "")
    consent = bool(ss.get("save_consent"))
    notes = str(ss.get("save_notes") or "")
    taken_at = _visit_date(ss)
    try:
        visit = build_visit({v: a for v, (_, a) in done.items()}, height_cm=_height(done),
                            date=taken_at.isoformat(), notes=notes)
        with store.transaction():  # the client, the consent and every view, or nothing
            if client_id is None:
                if not name_typed.strip():
                    raise StoreError("A new client needs a name or a code.",
                                     "Enter a name or a pseudonymous code.")
                if not consent:
                    raise ConsentError("no consent")
                client_id = store.create_client(name_typed, consent_given=True)
            elif consent and not store.get_client(client_id).consent_given:
                store.record_consent(client_id, True)
            visit_id = save_visit(store, client_id, visit, {v: p for v, (p, _) in done.items()},
                                  taken_at=taken_at)
        cid = client_id
        name = store.get_client(cid).name
    except ConsentError:
        ss[ERROR_KEY] = (fp, f"{saving.NO_CONSENT} {saving.NOTHING_SAVED}")
        return
    except PostureError as exc:
        ss[ERROR_KEY] = (fp, str(exc))
        return
    except Exception as exc:
        log_failure(log, "saving the visit", exc)
        ss[ERROR_KEY] = (fp, "The visit could not be saved; nothing was stored. Try again.")
        return
    nav.select_client(int(cid))
    ss[SAVED_KEY] = {"fingerprint": fp, "client_id": int(cid), "visit_id": visit_id, "name": name}
    ss["save_mode"] = "Existing client"
    ss["save_client"] = int(cid)
    for key in ("save_new_name", "save_notes"):
        ss[key] = ""
    ss["save_consent"] = False


def _height(done: dict[str, tuple[Photo, Analysis]]) -> float | None:
    """The client's height the views were measured with (the page's one height input)."""
    for _p, a in done.values():
        if a.scale and a.scale.get("stature_cm") is not None:
            return float(a.scale["stature_cm"])
    return None


def _save_ui(done: dict[str, tuple[Photo, Analysis]]) -> None:
    ss = st.session_state
    try:
        store = nav.get_store()
    except PostureError as exc:
        st.error(str(exc))
        return
    except Exception as exc:
        log_failure(log, "opening the store", exc)
        st.error("The client records could not be opened.")
        return
    fp = fingerprint(done)
    last = ss.get(SAVED_KEY)
    saved = bool(last and last.get("fingerprint") == fp)
    names = ", ".join(label(v).lower() for v in done)
    st.button(f"Save the visit ({names})", type="primary", icon=":material/save:", key="visit_save",
              disabled=saved, on_click=_save, args=(store, done, fp),
              help="Uses the client, consent, notes and date of the save form above; each view "
              "keeps its own hand corrections.")
    error = ss.get(ERROR_KEY)
    if error and error[0] == fp:
        st.error(error[1])
    if saved and last:
        st.success(f"Visit saved ({len(done)} view{'s' * (len(done) != 1)}) for "
                   f"{md_escape(str(last['name']))}.")
        if st.button("Start a new visit", key="visit_new", icon=":material/restart_alt:"):
            clear(ss)
            ss.pop(SAVED_KEY, None)
            st.rerun()
