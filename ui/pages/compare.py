"""Compare page: two stored assessments of one client side by side (same body scale, feet on one
line), what changed and whether it is real, each measurement's trend over all sessions, and a
comparison PDF. Only widgets and calls into the library (posture.compare, posture.report).

Every failure becomes one ``st.error`` (:func:`ui.components.errors.shown_as_error`); the PDF is
made when asked for ("Make the comparison PDF", a failure shown at once), then downloaded. Client
names and notes are shown literally (markdown-escaped where Streamlit renders markdown)."""

from __future__ import annotations

import dataclasses
import logging
import math
from typing import Any

import streamlit as st

from posture.compare import Comparison, align_pair, compare, overlay, trend
from posture.compare_visits import compare_visits
from posture.constants import UNIT_PCT_EAR_ANKLE, UNIT_PCT_SHOULDER
from posture.errors import PostureError
from posture.exam import VIEW_ORDER, VIEW_TITLES, Visit
from posture.report.compare_pdf import render_compare_pdf
from posture.report.model import md_escape
from posture.sides import View
from posture.store.visits import VisitRecord, list_visits
from posture.text import strip_invisible
from ui import nav
from ui.components import report_bridge
from ui.components.errors import shown_as_error
from ui.components.layout import FORM_COL_PX, TABLE_COL_PX, reflow_row

log = logging.getLogger("posture.app")

VERDICT_REAL = "yes"
VERDICT_NOISE = "no"
VERDICT_NA = "not compared"
HAND_MARK = " ✋"  # a real change that rests on a hand-placed point
EMPTY_CELL = "–"  # a value not measured in one of the photos
# short unit words of the table's cells (the help of the columns spells them out)
SHORT_UNITS = {"deg": "°", "cm": " cm"}
# the aligned before/after photos' column (CSS px): each photo ~270 px wide on a laptop, the pair
# on its own row (full width) on a tablet; the table's is layout.TABLE_COL_PX, whose columns'
# widths below add up to less than it (no sideways scrolling, the last column whole)
PHOTOS_COL_PX = 560
PDF_KEY = "posture_compare_pdf"  # (what it shows, PDF bytes): the one comparison PDF made
PDF_FAILED = "The comparison PDF could not be made. The comparison on screen is unaffected; try again."


def short_unit(unit: str) -> str:
    """° / cm / % (of the shoulder width) as printed after a number in the table."""
    return SHORT_UNITS.get(unit, " %" if unit.startswith("%") else f" {unit}")


def cell(value: float | None, unit: str, signed: bool = True) -> str:
    """One table cell: the value with ITS OWN unit (a photo measured in % of the shoulder width
    says %, even when the other one is in cm), "–" when not measured."""
    if value is None or not math.isfinite(value):
        return EMPTY_CELL
    return f"{value:+.1f}{short_unit(unit)}" if signed else f"{value:.1f}{short_unit(unit)}"


def _unit_in(analysis: Any, name: str, fallback: str) -> str:
    m = getattr(analysis, "measurements", {}).get(name)
    return str(m.unit) if m is not None else fallback


def hand_placed(result: Comparison, name: str) -> bool:
    """The measurement is built from a landmark placed by hand in either photo."""
    for an in (result.before, result.after):
        m = getattr(an, "measurements", {}).get(name)
        if m is not None and set(getattr(m, "landmarks", ())) & set(getattr(an, "manual", ())):
            return True
    return False


def change_rows(result: Comparison) -> list[dict[str, Any]]:
    """The table: one row per measurement, each value as text with its own unit ("–": not
    measured), the verdict marked ✋ when it rests on a hand-placed point."""
    rows = []
    for ch in result.changes.values():
        verdict = VERDICT_NA if not ch.comparable else (VERDICT_REAL if ch.real_change else VERDICT_NOISE)
        if ch.comparable and hand_placed(result, ch.name):
            verdict += HAND_MARK
        rows.append({
            "measurement": ch.label.split(" (")[0],  # the full label is in the summaries
            "before": cell(ch.before, _unit_in(result.before, ch.name, ch.unit)),
            "after": cell(ch.after, _unit_in(result.after, ch.name, ch.unit)),
            "change": cell(ch.delta, ch.unit),
            "±": cell(ch.uncertainty, ch.unit, signed=False),
            "noise band": cell(ch.band, ch.unit, signed=False),
            "real change": verdict,
        })
    return rows


def _label(r: Any) -> str:
    note = f" · {strip_invisible(r.notes)[:30]}" if r.notes else ""
    return f"{r.taken_at:%d %b %Y} · {r.view} (#{r.id}){note}"


def _with_lines(photo: Any, analysis: Any) -> Any:
    """The photo with the analysis drawn on it (same size, so the alignment is unchanged)."""
    image, _legend = report_bridge.annotated_image(photo, analysis)
    return dataclasses.replace(photo, rgb=image)


def _trend_spec(name: str, unit: str) -> dict[str, Any]:
    """The trend chart: the measurement's name as the chart's title, the unit alone on the y axis
    (a long "name (unit)" axis title was cut to "(c")."""
    return {
        "height": 260,
        "title": {"text": name, "anchor": "start", "fontSize": 13},
        "layer": [
            {"mark": {"type": "rule", "strokeDash": [4, 4], "color": "#9aa7ab"},
             "encoding": {"y": {"datum": 0}}},
            {"mark": {"type": "rule", "color": "#2a7f8f"},
             "encoding": {"x": {"field": "session", "type": "ordinal", "sort": None},
                          "y": {"field": "low", "type": "quantitative"},
                          "y2": {"field": "high"}}},
            {"mark": {"type": "line", "point": {"filled": True, "size": 60}, "color": "#2a7f8f"},
             "encoding": {
                 "x": {"field": "session", "type": "ordinal", "sort": None, "title": None,
                       "axis": {"labelAngle": 0}},
                 "y": {"field": "value", "type": "quantitative", "title": short_unit(unit).strip()},
                 "tooltip": [{"field": "session"}, {"field": "value", "format": "+.1f"},
                             {"field": "uncertainty", "title": "±", "format": ".1f"}],
             }},
        ],
    }


def _session(r: Any) -> str:
    return f"{r.taken_at:%d %b %Y} #{r.id}"


def _unit_words(unit: str) -> str:
    """A unit as words for the trend's notes: "in % of shoulder width (no height)"."""
    if unit == UNIT_PCT_SHOULDER:
        return "in % of shoulder width (no height)"
    if unit == UNIT_PCT_EAR_ANKLE:
        return "in % of the ear-to-ankle height (no height)"
    return f"in {short_unit(unit).strip()}"


def trend_notes(records: list[Any], view: str, name: str, unit: str) -> list[str]:
    """What the trend of ``name`` in ``view`` leaves out, each session named: sessions of another
    view, sessions of this view without that measurement, and those in another unit."""
    other = [f"{_session(r)} ({r.view})" for r in records if r.view != view]
    notes = [f"Other views, not in this {view} trend: {', '.join(other)}."] if other else []
    lacking, unit_off = [], []
    for r in records:
        if r.view != view:
            continue
        m = r.to_analysis().measurements.get(name)
        if m is None or not m.available or m.value is None:
            lacking.append(_session(r))
        elif m.unit != unit:
            unit_off.append(f"{_session(r)}: {_unit_words(m.unit)}, not plotted with "
                            f"{short_unit(unit).strip()}")
    if lacking:
        notes.append(f"Not measured in: {', '.join(lacking)}.")
    if unit_off:
        notes.append("; ".join(unit_off) + ".")
    return notes


def trend_ui(records: list[Any], view: str) -> None:
    """The trend of one measurement over the sessions of ``view`` (the chosen pair's view): a
    front photo is never plotted with a back or side one; every session left out is named."""
    st.subheader(f"Trend over the {view} sessions")
    same = [r for r in records if r.view == view]
    try:
        analyses = {r.id: r.to_analysis() for r in same}
        series = trend([(r.id, analyses[r.id]) for r in same])
    except PostureError as exc:
        st.info(f"No trend: {exc}")
        return
    series = {k: v for k, v in series.items() if v}
    if not series:
        st.info(f"No measurement is available in the {view} sessions.")
        return
    by_id = {r.id: r for r in same}
    newest = {n: next(analyses[r.id].measurements[n] for r in reversed(same)
                      if n in analyses[r.id].measurements and analyses[r.id].measurements[n].available)
              for n in series}
    labels = {n: str(newest[n].label) for n in series}
    name = st.selectbox("Measurement", list(series), key="trend_of", format_func=labels.__getitem__)
    unit = str(newest[name].unit)  # the series' unit (posture.compare.trend: the newest one's)
    data = []
    for p in series[name]:
        u = float(p.uncertainty) if p.uncertainty is not None and math.isfinite(p.uncertainty) else 0.0
        data.append({"session": _session(by_id[p.x]), "value": p.value,
                     "uncertainty": u, "low": p.value - u, "high": p.value + u})
    st.vega_lite_chart(data, _trend_spec(labels[name], unit), width="stretch")
    for note in trend_notes(records, view, name, unit):
        st.caption(note)
    st.caption("Bars: the 95% ± of each photo. Dashed line: level / centred (0). "
               "Positive: client's right side lower, or shifted toward the client's right "
               "(side views: toward the client's front).")


def photos_ui(store: Any, before_rec: Any, after_rec: Any, before: Any, after: Any) -> Any:
    """The aligned pair, optionally with the lines drawn and as an overlay. Returns the aligned
    (before, after) arrays, or None when they cannot be shown."""
    c1, c2 = st.columns(2)
    lines = c1.toggle("Draw the measured lines", value=True, key="cmp_lines")
    blend = c2.toggle("Overlay", value=False, key="cmp_overlay")
    try:
        pa, pb = store.get_photo(before_rec.id), store.get_photo(after_rec.id)
        if lines:
            pa, pb = _with_lines(pa, before), _with_lines(pb, after)
        a, b = align_pair(pa, before, pb, after)
    except PostureError as exc:
        st.info(f"Photos not shown: {exc}")
        return None
    left, right = st.columns(2, gap="small")
    left.image(a, caption=f"Before · {before_rec.taken_at:%d %b %Y}", width="stretch")
    right.image(b, caption=f"After · {after_rec.taken_at:%d %b %Y}", width="stretch")
    st.caption("Both photos are scaled to the same body height with the feet on one line, body centred.")
    if blend:
        alpha = st.slider("After photo weight", 0.0, 1.0, 0.5, 0.05, key="cmp_alpha")
        try:
            st.image(overlay(pa, before, pb, after, alpha=alpha),
                     caption="Overlay: before and after blended", width="stretch")
        except PostureError as exc:
            st.info(f"Overlay not shown: {exc}")
    return a, b


def pdf_ui(result: Comparison, aligned: Any, before_rec: Any, after_rec: Any, client: str) -> None:
    if aligned is None:
        return
    a, b = aligned
    blabel = f"Before: {before_rec.taken_at:%d %b %Y}"
    alabel = f"After: {after_rec.taken_at:%d %b %Y}"

    shows = (before_rec.id, after_rec.id, client, bool(st.session_state.get("cmp_lines", True)))
    ss = st.session_state
    ready = ss.get(PDF_KEY)
    if ready is not None and ready[0] != shows:  # another pair: that PDF is not this one
        ss.pop(PDF_KEY, None)
        ready = None
    if st.button("Make the comparison PDF", key="cmp_pdf_make", icon=":material/picture_as_pdf:"):
        ss.pop(PDF_KEY, None)
        ready = None
        with shown_as_error("comparison PDF", PDF_FAILED), st.spinner("Making the PDF..."):
            manual = tuple(n for n in result.changes if hand_placed(result, n))
            pdf = render_compare_pdf(result, a, b, before_label=blabel, after_label=alabel, client=client,
                                     before_notes=before_rec.notes, after_notes=after_rec.notes,
                                     manual=manual)
            ready = ss[PDF_KEY] = (shows, bytes(pdf))
    if ready is not None:
        st.download_button(
            "Download comparison PDF", ready[1],
            file_name=f"posture-comparison-{before_rec.taken_at}-{after_rec.taken_at}.pdf",
            mime="application/pdf", on_click="ignore", icon=":material/download:", key="cmp_pdf",
        )


MODE_PHOTOS = "Two photos"
MODE_VISITS = "Compare visits"


def _visit_label(v: VisitRecord) -> str:
    ids = ", ".join(f"#{i}" for i in v.assessment_ids.values())
    return f"{v.taken_at:%d %b %Y} · {', '.join(v.views)} ({ids})"


def _visit_of(v: VisitRecord, by_id: dict[int, Any]) -> Visit:
    """The stored visit as a :class:`posture.exam.Visit` of its views' analyses."""
    return Visit(views={View.parse(view): by_id[aid].to_analysis() for view, aid in v.assessment_ids.items()},
                 height_cm=v.height_cm, date=v.taken_at.isoformat())


def visits_ui(records: list[Any], visits: list[VisitRecord]) -> None:
    """Two visits compared view by view (posture.compare_visits: the front with the front, the left
    side with the left side, never a front with a back): one change table per view present in both,
    the views present in one visit only named; then the trend of one chosen view."""
    keys = list(range(len(visits)))  # oldest first
    c1, c2 = reflow_row(2, (TABLE_COL_PX // 2 + FORM_COL_PX // 2,) * 2)
    bi = c1.selectbox("Before visit", keys, index=0, format_func=lambda i: _visit_label(visits[i]),
                      key="cmpv_before")
    ai = c2.selectbox("After visit", keys, index=len(keys) - 1,
                      format_func=lambda i: _visit_label(visits[i]), key="cmpv_after")
    if bi == ai:
        st.warning("Choose two different visits.")
        return
    if bi > ai:
        st.warning("'Before' is the later visit: the changes below run backwards in time.")
    by_id = {r.id: r for r in records}
    try:
        result = compare_visits(_visit_of(visits[bi], by_id), _visit_of(visits[ai], by_id))
    except PostureError as exc:
        st.error(str(exc))
        return
    for note in result.notes:
        st.info(note)
    for view, pair in result.pairs.items():
        for w in pair.warnings:
            st.warning(f"{VIEW_TITLES[view]}: {w}")
        changes_ui(pair, title=f"What changed: {VIEW_TITLES[view]}")
    present = [v.value for v in VIEW_ORDER if any(r.view == v.value for r in records)]
    view = st.selectbox("Trend of the view", present, key="cmpv_trend_view",
                        format_func=lambda v: VIEW_TITLES[View.parse(v)])
    trend_ui(records, view)


def render() -> None:
    st.title("Compare assessments")
    with shown_as_error("compare page"):
        _page(nav.get_store())


def _page(store: Any) -> None:
    clients = store.find_clients()
    if not clients:
        st.info("No clients yet: save an assessment to a client on the New assessment page.")
        return
    ids = [c.id for c in clients]
    names = {c.id: f"{strip_invisible(c.name)} (#{c.id})" for c in clients}  # no bidi override
    current = nav.selected_client()
    cid = st.selectbox("Client", ids, index=ids.index(current) if current in ids else 0,
                       format_func=names.__getitem__, key="compare_client")
    nav.select_client(cid)
    client_name = next(c.name for c in clients if c.id == cid)
    records = store.list_assessments(cid)
    if len(records) < 2:
        st.info(f"{md_escape(names[cid])} has {len(records)} saved assessment"
                f"{'s' * (len(records) != 1)}; save at least two to compare.")
        return
    visits = list_visits(store, cid)
    if len(visits) >= 2 and any(len(v.views) > 1 for v in visits):
        mode = st.radio("Compare", (MODE_PHOTOS, MODE_VISITS), horizontal=True, key="cmp_mode")
        if mode == MODE_VISITS:
            visits_ui(records, visits)
            return
    labels = {r.id: _label(r) for r in records}
    rids = [r.id for r in records]  # oldest first
    c1, c2 = reflow_row(2, (TABLE_COL_PX // 2 + FORM_COL_PX // 2,) * 2)  # a session's label is long
    before_id = c1.selectbox("Before", rids, index=0, format_func=labels.__getitem__, key="cmp_before")
    after_id = c2.selectbox("After", rids, index=len(rids) - 1, format_func=labels.__getitem__,
                            key="cmp_after")
    if before_id == after_id:
        st.warning("Choose two different assessments.")
        return
    by_id = {r.id: r for r in records}
    before_rec, after_rec = by_id[before_id], by_id[after_id]
    if rids.index(before_id) > rids.index(after_id):
        st.warning("'Before' is the later assessment: the changes below run backwards in time.")
    try:
        before, after = before_rec.to_analysis(), after_rec.to_analysis()
        result = compare(before, after)
    except PostureError as exc:
        st.error(str(exc))
        return
    for w in result.warnings:
        st.warning(w)

    # side by side on a laptop, the table below the photos on a tablet
    photos_col, table_col = reflow_row(2, (PHOTOS_COL_PX, TABLE_COL_PX), vertical_alignment="top",
                                       gap="large")
    with photos_col:
        aligned = photos_ui(store, before_rec, after_rec, before, after)
    with table_col:
        changes_ui(result)
        pdf_ui(result, aligned, before_rec, after_rec, client_name)
    trend_ui(records, after_rec.view)


UNITS_HELP = "° degrees; cm; % = percent of the shoulder width (no usable height); – not measured"


def changes_ui(result: Comparison, title: str = "What changed") -> None:
    """The before / after / change table, the real changes in words, the rest in an expander."""
    st.subheader(title)
    # widths add up to 470 px < layout.TABLET_TABLE_PX: every column, the verdict too, is whole, on a
    # tablet too
    st.dataframe(
        change_rows(result), hide_index=True, width="stretch",
        column_order=("measurement", "before", "after", "change", "±", "real change"),
        column_config={
            "measurement": st.column_config.TextColumn(width=116),
            "before": st.column_config.TextColumn(width=64, help=UNITS_HELP),
            "after": st.column_config.TextColumn(width=64, help=UNITS_HELP),
            "change": st.column_config.TextColumn(help="after - before", width=64),
            "±": st.column_config.TextColumn(help="95% range of the change", width=52),
            "noise band": st.column_config.TextColumn(
                help="smallest change that counts between sessions"),
            "real change": st.column_config.TextColumn(
                help="yes: the change exceeds both the ± and the noise band; ✋ it rests on a "
                     "point placed by hand", width=110),
        },
    )
    if any(r["real change"].endswith(HAND_MARK) for r in change_rows(result)):
        st.caption("✋ This change rests on a landmark placed by hand: check that point before "
                   "relying on it.")
    real = result.real_changes
    if real:
        st.markdown("**Real changes**\n" + "\n".join(f"- {ch.summary}" for ch in real))
    else:
        st.markdown("**No real change**: every difference is within measurement noise or the "
                    "day-to-day noise band.")
    with st.expander("Every measurement in words"):
        for ch in result.changes.values():
            if not ch.real_change:
                st.caption(ch.summary)
