"""Clients page: find or add a client, record consent, see their assessments, export or erase.

The history at a glance: per session a thumbnail, the date, the view, the main findings in words and
the two tilts with their side words (one decimal), then a sparkline per measurement. Any saved
assessment opens below the table: its session date can be edited, its report downloaded (with the
client's name, the notes and the clinic settings), it can be reopened on the New assessment page
with its hand-placed landmarks, or deleted (confirmed in a dialog; the photo's bytes leave the
database file as with the client erase). Every destructive action confirms first and then says what
it did (a message that survives the rerun, :data:`DONE_KEY`, and a toast).

Only widgets and calls into :mod:`posture.store`; no maths here. The store comes from
:func:`ui.nav.get_store` (opened once per process); records are read per rerun. Every store error
becomes one ``st.error`` (:func:`ui.components.errors.shown_as_error`). The export zip (every photo,
a PDF per assessment) is built only when asked for ("Prepare the export"), never on a rerun. Names
and notes are shown literally (markdown-escaped where Streamlit renders markdown).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from typing import Any

import streamlit as st
from PIL import Image

from posture.errors import PostureError
from posture.formatting import format_number
from posture.report.model import md_escape
from posture.settings import load_settings
from posture.store import Store
from posture.text import CLIENT_NAME_MAX, NOTES_MAX, strip_invisible
from ui import nav, state
from ui.components import report_bridge
from ui.components.errors import shown_as_error
from ui.components.layout import DATE_COL_PX, FORM_COL_PX, TABLE_COL_PX, reflow_row

EXPORT_KEY = "posture_client_export"  # (client id, zip bytes, when): the one prepared export
DONE_KEY = "posture_clients_done"  # what the last destructive action did, shown after its rerun
THUMBS_KEY = "posture_history_thumbs"  # {(assessment id, created_at): data URL}: this session only
REPORT_KEY = "posture_reopened_report"  # (assessment id, PDF bytes): the one report made on request
OPEN_KEY = "history_open"
DELETE_KEY = "posture_delete_pending"  # the assessment whose delete is being confirmed
KEEP_OPEN_KEY = "posture_keep_open"  # the assessment to keep open after its date moved it in the list
# the history's thumbnails (px tall) and how many findings a row names
THUMB_PX = 72
MAIN_FINDINGS = 2
VIEW_WORDS = {"anterior": "front", "posterior": "back", "left": "left side", "right": "right side"}
# views the New assessment page can reopen (its view choice)
REOPENABLE_VIEWS = ("anterior", "posterior", "left", "right")
TILTS = (("shoulder_tilt", "shoulders", "shoulder"), ("hip_tilt", "hips", "hip"))


def say_done(text: str) -> None:
    """Tell what a destructive action did, on the next run (the action reruns the page)."""
    st.session_state[DONE_KEY] = text


def _show_done() -> None:
    text = st.session_state.pop(DONE_KEY, None)
    if text:
        st.success(text, icon=":material/check_circle:")
        st.toast(text)


def thumbnail(store: Store, rec: Any) -> str | None:
    """A small JPEG of the stored photo as a data URL (kept in this session only: health data)."""
    if rec.photo_mime is None:
        return None
    cache: dict[Any, str] = st.session_state.setdefault(THUMBS_KEY, {})
    key = (rec.id, rec.created_at.isoformat())
    if key not in cache:
        with Image.open(io.BytesIO(store.get_photo_bytes(rec.id))) as im:
            small = im.convert("RGB")
        small.thumbnail((THUMB_PX * 2, THUMB_PX))
        buf = io.BytesIO()
        small.save(buf, format="JPEG", quality=80)
        cache[key] = "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    return cache[key]


def tilt_text(measurements: Any, name: str, part: str = "") -> str:
    """'+2.3° right lower' (one decimal, the side in words without the ``part`` its column names,
    e.g. 'shoulder'), '–' when not measured."""
    m = (measurements or {}).get(name) or {}
    if not m.get("available", True) or m.get("value") is None:
        return "–"
    side = str(m.get("side") or "").replace(f"{part} ", "") if part else str(m.get("side") or "")
    return f"{format_number(float(m['value']), str(m.get('unit') or 'deg'))} {side}".strip()


def findings_text(findings: Any) -> str:
    """The main findings in words (the first :data:`MAIN_FINDINGS` titles with their severity)."""
    items = [f for f in findings or () if isinstance(f, dict) and f.get("title")]
    if not items:
        return "no clear asymmetry"
    words = [f"{f['title']} ({f['severity']})" if f.get("severity") else str(f["title"])
             for f in items[:MAIN_FINDINGS]]
    more = len(items) - MAIN_FINDINGS
    return "; ".join(words) + (f"; +{more} more" if more > 0 else "")


def session_label(rec: Any) -> str:
    return f"{rec.taken_at:%d %b %Y} · {VIEW_WORDS.get(rec.view, rec.view)}"


def history_rows(store: Store, records: list[Any]) -> list[dict[str, Any]]:
    """The history at a glance, newest first."""
    return [{
        "photo": thumbnail(store, r),
        "date": r.taken_at,
        "view": VIEW_WORDS.get(r.view, r.view),
        "findings": findings_text(r.findings),
        **{label: tilt_text(r.measurements, name, part) for name, label, part in TILTS},
    } for r in reversed(records)]


def trend_rows(records: list[Any]) -> list[dict[str, Any]]:
    """One sparkline per measurement and view (oldest to newest), in the unit of the newest value
    (sessions in another unit, e.g. % before a height was given, are left out and counted)."""
    series: dict[tuple[str, str], dict[str, Any]] = {}
    for r in records:
        for name, m in (r.measurements or {}).items():
            if not isinstance(m, dict) or not m.get("available", True) or m.get("value") is None:
                continue
            row = series.setdefault((r.view, name), {"label": m.get("label") or name, "points": []})
            row["points"].append((str(m.get("unit") or ""), float(m["value"]), m.get("side") or ""))
    out = []
    for (view, _name), row in series.items():
        unit = row["points"][-1][0]
        values = [v for u, v, _side in row["points"] if u == unit]
        left_out = len(row["points"]) - len(values)
        out.append({
            "measurement": f"{row['label'].split(' (')[0]} ({VIEW_WORDS.get(view, view)})",
            "trend": values,
            "latest": f"{format_number(values[-1], unit)} {row['points'][-1][2]}".strip()
            + (f" ({left_out} in another unit left out)" if left_out else ""),
        })
    return out


def _new_client_form(store: Store) -> None:
    with st.expander("Add a client", expanded=False), st.form("new_client", clear_on_submit=True):
        name = st.text_input("Name or code", help="A pseudonymous code is enough.", max_chars=CLIENT_NAME_MAX)
        dob = st.date_input("Date of birth (optional)", value=None, min_value=dt.date(1900, 1, 1))
        notes = st.text_area("Notes", max_chars=NOTES_MAX)
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
    _show_done()
    _new_client_form(store)
    query = st.text_input("Search by name, code or id", key="client_query")
    clients = store.find_clients(query)
    if not clients:
        st.info("No clients yet." if not query else "No client matches.")
        return
    ids = [c.id for c in clients]
    names = {c.id: f"{strip_invisible(c.name)} (#{c.id})" for c in clients}  # no bidi override
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
        notes = st.text_area("Notes", value=client.notes, key=f"notes_{cid}",
                             max_chars=max(NOTES_MAX, len(client.notes)))  # older notes stay editable
        if notes != client.notes and st.button("Save notes", key="save_notes"):
            try:
                store.update_client(cid, notes=notes)
            except PostureError as exc:  # e.g. longer than posture.text.NOTES_MAX: refused, not cut
                st.error(md_escape(str(exc)))
            else:
                st.rerun()
    with right:
        records = store.list_assessments(cid)
        st.subheader(f"Assessments ({len(records)})")
        if records:
            history_ui(store, records)
        if len(records) >= 2 and st.button("Compare assessments", key="to_compare",
                                           icon=":material/compare:"):
            nav.switch_to(nav.COMPARE)
        export_ui(store, cid)
    if records:
        assessment_ui(store, client, records)
    with st.expander("Erase this client"):
        st.write("Deletes the client, every assessment and every photo, for good.")
        confirm = st.text_input("Type the client's name to confirm", key="erase_confirm")
        if st.button("Erase", type="primary", key="erase_btn", disabled=confirm.strip() != client.name):
            store.delete_client(cid)
            nav.forget_client()
            st.session_state.pop(EXPORT_KEY, None)
            st.session_state.pop(REPORT_KEY, None)
            say_done(f"{md_escape(client.name)} was erased: the client, {len(records)} assessment"
                     f"{'s' * (len(records) != 1)} and every photo are gone from this machine's store.")
            st.rerun()


def history_ui(store: Store, records: list[Any]) -> None:
    """The history table (newest first) and a sparkline per measurement."""
    # widths add up to 472 px < layout.TABLET_TABLE_PX: the table never scrolls sideways, on a tablet
    # either (long findings are cut in the cell, the whole text shows on hover; the notes show in
    # full when the assessment is opened below)
    st.dataframe(history_rows(store, records), hide_index=True, width="stretch", row_height=THUMB_PX,
                 column_config={
        "photo": st.column_config.ImageColumn(width=52),
        "date": st.column_config.DateColumn(format="D MMM YYYY", width=84),
        "view": st.column_config.TextColumn(width=44),
        "findings": st.column_config.TextColumn("main findings", width=100),
        "shoulders": st.column_config.TextColumn(width=96, help="Shoulder line tilt; + = right lower"),
        "hips": st.column_config.TextColumn(width=96, help="Hip-joint line tilt; + = right lower"),
    })
    if len(records) >= 2:
        st.caption("Each measurement over the sessions (oldest → newest)")
        st.dataframe(trend_rows(records), hide_index=True, width="stretch",
                     column_config={
            "measurement": st.column_config.TextColumn(width=170),  # 470 px in all
            "trend": st.column_config.LineChartColumn(width=120),
            "latest": st.column_config.TextColumn(width=180),
        })


def assessment_ui(store: Store, client: Any, records: list[Any]) -> None:
    """One saved assessment, opened: edit its date, its report, reopen it, delete it."""
    st.subheader("Open a saved assessment")
    by_id = {r.id: r for r in records}
    number = {r.id: n for n, r in enumerate(records, start=1)}  # in time order: unique, no id
    ids = [r.id for r in reversed(records)]  # newest first
    if st.session_state.get(KEEP_OPEN_KEY) in by_id:  # a new date re-sorted the list: same one open
        st.session_state[OPEN_KEY] = st.session_state.pop(KEEP_OPEN_KEY)
    rid = st.selectbox("Assessment", ids, key=OPEN_KEY,
                       format_func=lambda i: f"Session {number[i]} · {session_label(by_id[i])}")
    rec = by_id[rid]
    if rec.notes:
        st.caption(f"Notes: {md_escape(rec.notes)}")
    c1, c2 = reflow_row(2, (DATE_COL_PX, FORM_COL_PX), vertical_alignment="bottom")
    with c1:
        day = st.date_input("Session date", value=rec.taken_at, max_value=dt.date.today(),
                            key=f"date_of_{rec.id}")
    with c2:
        if st.button("Save the date", key="save_session_date", disabled=day == rec.taken_at,
                     icon=":material/event:"):
            store.update_assessment(rec.id, taken_at=day)
            st.session_state[KEEP_OPEN_KEY] = rec.id
            say_done(f"The session of {rec.taken_at:%d %b %Y} is now dated {day:%d %b %Y}.")
            st.rerun()
    with st.container(horizontal=True, gap="small", key="assessment_actions"):
        report_ui(store, client, rec)
        if rec.view in REOPENABLE_VIEWS and rec.photo_mime is not None and st.button(
            "Reopen on New assessment", key="reopen_btn", icon=":material/edit:",
            help="The photo with its hand-placed landmarks, to look again or correct further.",
        ):
            state.open_saved(st.session_state, store.get_photo_bytes(rec.id), rec.analysis)
            nav.switch_to(nav.ASSESSMENT)
        if st.button("Delete this assessment", key="delete_btn", icon=":material/delete:"):
            st.session_state[DELETE_KEY] = rec.id
    if st.session_state.get(DELETE_KEY) == rec.id:  # open until confirmed, cancelled or dismissed
        confirm_delete(store, rec)


def report_ui(store: Store, client: Any, rec: Any) -> None:
    """The assessment's PDF report, made on request (client name, date, notes, the settings)."""
    ss = st.session_state
    ready = ss.get(REPORT_KEY)
    if ready is not None and ready[0] != (rec.id, rec.taken_at, rec.notes):
        ss.pop(REPORT_KEY, None)
        ready = None
    if ready is None:
        if st.button("Make the report PDF", key="reopen_report", icon=":material/picture_as_pdf:"):
            with shown_as_error("saved report"), st.spinner("Making the report..."):
                photo = store.get_photo(rec.id)
                pdf = report_bridge.pdf_report(photo, rec.to_analysis(), client.name,
                                               load_settings().blur_faces, rec.notes or None, rec.taken_at)
                if pdf is None:
                    st.error("The report could not be made for this assessment.")
                    return
                ss[REPORT_KEY] = ((rec.id, rec.taken_at, rec.notes), pdf)
                st.rerun()
        return
    st.download_button("Download the report (PDF)", ready[1], key="reopen_pdf",
                       file_name=f"posture-report-{rec.taken_at}.pdf", mime="application/pdf",
                       on_click="ignore", icon=":material/download:", type="primary")


def _cancel_delete() -> None:
    st.session_state.pop(DELETE_KEY, None)


@st.dialog("Delete this assessment?", on_dismiss=_cancel_delete)  # type: ignore[untyped-decorator]
def confirm_delete(store: Store, rec: Any) -> None:
    st.write(f"The assessment of {session_label(rec)} — its photo, measurements and notes — is "
             "erased for good. The client and their other assessments stay.")
    yes, no = st.columns(2)
    if yes.button("Delete", type="primary", key="delete_confirm", icon=":material/delete_forever:"):
        store.delete_assessment(rec.id)
        _cancel_delete()
        st.session_state.pop(REPORT_KEY, None)
        st.session_state.get(THUMBS_KEY, {}).pop((rec.id, rec.created_at.isoformat()), None)
        say_done(f"Deleted the assessment of {session_label(rec)}: its photo and measurements are "
                 "gone from the store.")
        st.rerun()
    if no.button("Cancel", key="delete_cancel", on_click=_cancel_delete):
        st.rerun()
