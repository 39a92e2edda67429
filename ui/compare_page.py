"""Compare page: two stored assessments of one client side by side, what changed and whether it is
real, and each measurement's trend. Only widgets and calls into the library."""

from __future__ import annotations

import streamlit as st

from posture.compare import align_pair, compare, side_by_side, trend
from posture.errors import PostureError
from ui.clients_page import SELECTED, get_store


def render() -> None:
    st.title("Compare assessments")
    try:
        store = get_store()
    except PostureError as exc:
        st.error(str(exc))
        return
    clients = store.find_clients()
    if not clients:
        st.info("No clients yet: add one on the Clients page.")
        return
    ids = [c.id for c in clients]
    names = {c.id: f"{c.name} (#{c.id})" for c in clients}
    current = st.session_state.get(SELECTED)
    cid = st.selectbox("Client", ids, index=ids.index(current) if current in ids else 0,
                       format_func=names.__getitem__, key="compare_client")
    records = store.list_assessments(cid)
    if len(records) < 2:
        st.info("This client needs at least two assessments to compare.")
        return
    labels = {r.id: f"{r.taken_at:%d %b %Y} · {r.view} (#{r.id})" for r in records}
    rids = [r.id for r in records]
    c1, c2 = st.columns(2)
    before_id = c1.selectbox("Before", rids, index=0, format_func=labels.__getitem__, key="cmp_before")
    after_id = c2.selectbox("After", rids, index=len(rids) - 1, format_func=labels.__getitem__,
                            key="cmp_after")
    if before_id == after_id:
        st.warning("Choose two different assessments.")
        return
    by_id = {r.id: r for r in records}
    before, after = by_id[before_id].to_analysis(), by_id[after_id].to_analysis()
    result = compare(before, after)
    for w in result.warnings:
        st.warning(w)
    rows = [{
        "measurement": ch.label,
        "before": ch.before,
        "after": ch.after,
        "change": ch.delta,
        "±": ch.uncertainty,
        "real change": "yes" if ch.real_change else "no",
    } for ch in result.changes.values()]
    st.dataframe(rows, hide_index=True, width="stretch")
    for ch in result.changes.values():
        (st.markdown if ch.real_change else st.caption)(ch.summary)
    try:
        a, b = align_pair(store.get_photo(before_id), before, store.get_photo(after_id), after)
        st.image(side_by_side(a, b), caption="Before (left) and after (right), aligned on the body")
    except PostureError as exc:
        st.info(f"Photos not shown: {exc}")
    series = trend([(r.taken_at.isoformat(), r.to_analysis()) for r in records])
    name = st.selectbox("Trend of", list(series), key="trend_of",
                        format_func=lambda n: after.measurements[n].label if n in after.measurements else n)
    pts = series.get(name, [])
    if pts:
        st.line_chart({"date": [p.x for p in pts], "value": [p.value for p in pts]}, x="date", y="value")
