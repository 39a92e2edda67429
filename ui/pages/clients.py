"""Clients page: find or add a client, record consent, see their assessments, export or erase.

Only widgets and calls into :mod:`posture.store`; no maths here. The store comes from
:func:`ui.nav.get_store` (opened once per process); records are read per rerun. Every store error
becomes one ``st.error`` (:func:`ui.components.errors.shown_as_error`). The export zip (every photo,
a PDF per assessment) is built only when asked for ("Prepare the export"), never on a rerun. Names
and notes are shown literally (markdown-escaped where Streamlit renders markdown).
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from posture.errors import PostureError
from posture.report.model import md_escape
from posture.store import Store
from ui import nav
from ui.components.errors import shown_as_error
from ui.components.layout import FORM_COL_PX, TABLE_COL_PX, reflow_row

EXPORT_KEY = "posture_client_export"  # (client id, zip bytes, when): the one prepared export


def _new_client_form(store: Store) -> None:
    with st.expander("Add a client", expanded=False), st.form("new_client", clear_on_submit=True):
        name = st.text_input("Name or code", help="A pseudonymous code is enough.")
        dob = st.date_input("Date of birth (optional)", value=None, min_value=dt.date(1900, 1, 1))
        notes = st.text_area("Notes")
        consent = st.checkbox("The client consents to storing their photos and measurements here")
        if st.form_submit_button("Add client"):
            try:
                cid = store.create_client(name, date_of_birth=dob, notes=notes, consent_given=consent)
            except PostureError as exc:
                st.error(str(exc))
                return
            nav.select_client(cid)
            st.success(f"Added {md_escape(name.strip())}.")


def export_ui(store: Store, cid: int) -> None:
    """"Prepare the export" builds the zip once, on request; then "Download" hands it over. Only
    the latest prepared export of the client on screen is kept in the session."""
    ss = st.session_state
    ready = ss.get(EXPORT_KEY)
    if ready is not None and ready[0] != cid:
        ss.pop(EXPORT_KEY, None)
        ready = None
    if st.button("Prepare the export (zip)", key="export_prepare", icon=":material/folder_zip:",
                 help="Everything stored about this client: every photo and a PDF per assessment."):
        ss.pop(EXPORT_KEY, None)
        with st.spinner("Building the export..."):
            data = store.export_client_zip(cid)
        ready = ss[EXPORT_KEY] = (cid, data, dt.datetime.now())
    if ready is not None:
        st.download_button(
            "Download the export (zip)",
            data=ready[1],
            file_name=f"client_{cid}.zip",
            mime="application/zip",
            key="export_zip",
            on_click="ignore",
            icon=":material/download:",
        )
        st.caption(f"Prepared at {ready[2]:%H:%M}; prepare it again after a change.")


def render() -> None:
    st.title("Clients")
    with shown_as_error("clients page"):
        _page(nav.get_store())


def _page(store: Store) -> None:
    _new_client_form(store)
    query = st.text_input("Search by name, code or id", key="client_query")
    clients = store.find_clients(query)
    if not clients:
        st.info("No clients yet." if not query else "No client matches.")
        return
    ids = [c.id for c in clients]
    names = {c.id: f"{c.name} (#{c.id})" for c in clients}
    current = nav.selected_client()
    cid = st.selectbox("Client", ids, index=ids.index(current) if current in ids else 0,
                       format_func=names.__getitem__, key="client_pick")
    nav.select_client(cid)
    client = store.get_client(cid)

    left, right = reflow_row(2, (FORM_COL_PX, TABLE_COL_PX), vertical_alignment="top", gap="large")
    with left:
        st.subheader(md_escape(client.name))
        if client.date_of_birth:
            st.write(f"Born {client.date_of_birth:%d %b %Y}")
        if client.consent_given and client.consent_at:
            st.success(f"Consent recorded {client.consent_at:%d %b %Y %H:%M} UTC")
        else:
            st.warning("No consent recorded: do not store photos of this client.")
            if st.button("Record consent now", key="consent_btn"):
                store.record_consent(cid, True)
                st.rerun()
        notes = st.text_area("Notes", value=client.notes, key=f"notes_{cid}")
        if notes != client.notes and st.button("Save notes", key="save_notes"):
            store.update_client(cid, notes=notes)
            st.rerun()
    with right:
        records = store.list_assessments(cid)
        st.subheader(f"Assessments ({len(records)})")
        rows = []
        for r in records:
            ms = r.measurements
            rows.append({
                "id": r.id,
                "date": r.taken_at,
                "view": r.view,
                "shoulder tilt °": (ms.get("shoulder_tilt") or {}).get("value"),
                "hip tilt °": (ms.get("hip_tilt") or {}).get("value"),
                "notes": r.notes,
            })
        if rows:
            # widths that add up to less than a tablet's column: the table never scrolls sideways
            # (long notes are cut in the cell; the whole text shows on hover)
            st.dataframe(rows, hide_index=True, width="stretch", column_config={
                "id": st.column_config.NumberColumn("#", width=40, format="%d"),
                "date": st.column_config.DateColumn(format="D MMM YYYY", width=96),
                "view": st.column_config.TextColumn(width=76),
                "shoulder tilt °": st.column_config.NumberColumn("shoulder °", format="%+.1f", width=82),
                "hip tilt °": st.column_config.NumberColumn("hip °", format="%+.1f", width=60),
                "notes": st.column_config.TextColumn(width=110),
            })
        if len(records) >= 2 and st.button("Compare assessments", key="to_compare",
                                           icon=":material/compare:"):
            nav.switch_to(nav.COMPARE)
        export_ui(store, cid)
    with st.expander("Erase this client"):
        st.write("Deletes the client, every assessment and every photo, for good.")
        confirm = st.text_input("Type the client's name to confirm", key="erase_confirm")
        if st.button("Erase", type="primary", key="erase_btn", disabled=confirm.strip() != client.name):
            store.delete_client(cid)
            nav.forget_client()
            st.session_state.pop(EXPORT_KEY, None)
            st.success(f"{md_escape(client.name)} was erased.")
            st.rerun()
