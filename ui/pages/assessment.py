"""The "New assessment" page: photo in, annotated photo + measurement cards out, landmark correction,
save to a client.

Small ``*_ui`` functions read widgets and draw; the maths is all in the ``posture`` package
(``analyze``, ``correct_landmarks``), the rules of saving in :mod:`ui.saving`. The pose model is
loaded once per process (``st.cache_resource``); analyses are cached per session by (photo sha256,
view, height), so reruns that change nothing run no model pass, and a landmark correction only
re-measures.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from posture.analysis import Analysis, AnalysisOptions, analyze, correct_landmarks
from posture.errors import MultiplePeopleError, PostureError
from posture.imaging import Photo, load_photo
from posture.pose import PoseModel, shared_model
from posture.report.model import md_escape
from posture.settings import load_settings
from posture.store import Store
from posture.text import CLIENT_NAME_MAX, NOTES_MAX, strip_invisible
from ui import nav, saving, state
from ui.components import capture as capture_ui
from ui.components import report_bridge, visit
from ui.components.cards import HAND_PLACED, MEASUREMENTS_CAPTION, Card, card_parts, level_text
from ui.components.findings import findings_ui
from ui.components.layout import DATE_COL_PX, FORM_COL_PX, reflow_row
from ui.components.photo import (
    ZOOM_VIEW_PX,
    display_width,
    draw_people,
    resize_for_display,
    zoom_image,
    zoom_window,
)
from ui.logs import log_failure

log = logging.getLogger("posture.app")

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "sample_images"
UPLOAD_TYPES = ["jpg", "jpeg", "png", "heic", "heif", "webp"]
SOURCES = ("Upload a photo", "Use the camera", "Try a sample photo")
VIEW_LABELS = {
    "anterior": "Anterior (front)",
    "posterior": "Posterior (back)",
    "left": "Left side (client's left toward the camera)",
    "right": "Right side (client's right toward the camera)",
}
GENERIC_ERROR = (
    "Something went wrong while analysing this photo. Try again or use another photo; "
    "if it keeps happening, restart the app."
)


def sample_photos() -> dict[str, tuple[Path, str]]:
    """Shipped sample photos a first-time user can try: label -> (path, view)."""
    out: dict[str, tuple[Path, str]] = {}
    for path in sorted(SAMPLES_DIR.glob("yogait_*.jpg")):
        out[f"Front view - {path.stem.removeprefix('yogait_').replace('_', ' ')}"] = (path, "anterior")
    back = SAMPLES_DIR / "coco_000000183709.jpg"
    if back.is_file():
        out["Back view - cut at the knees"] = (back, "posterior")
    side = SAMPLES_DIR / "coco_000000234748.jpg"
    if side.is_file():
        out["Right side view - three-quarter, leaning on a post"] = (side, "right")
    return out


@dataclass(frozen=True)
class Inputs:
    data: bytes
    sha256: str
    view: str
    stature_cm: float | None


@st.cache_resource(show_spinner="Loading the pose model...")  # type: ignore[untyped-decorator]
def get_model() -> PoseModel:
    """The pose model, loaded once per process and shared by every session."""
    return shared_model()


def _on_sample_change() -> None:
    choice = st.session_state.get("sample")
    samples = sample_photos()
    if choice in samples:
        st.session_state["view"] = samples[choice][1]


def _on_upload_change() -> None:
    """A new file replaces the kept photo; removing the file forgets it."""
    up = st.session_state.get("upload")
    state.keep_photo(st.session_state, up.getvalue() if up is not None else None, SOURCES[0])


def _forget_kept_photo() -> None:
    state.keep_photo(st.session_state, None)


def inputs_ui() -> Inputs | None:
    """Sidebar: photo source, view, client height. None until there is a photo.

    The photo, the view, the height (and the page's other inputs) are kept in the session across
    pages (:mod:`ui.state`): coming back from Clients or Compare finds the same photo, its
    unsaved corrections and the same height."""
    state.restore_widgets(st.session_state)
    if st.session_state.get("view") not in VIEW_LABELS:
        st.session_state["view"] = "anterior"
    with st.sidebar:
        st.header("Photo")
        source = st.radio("Source", SOURCES, key="source", label_visibility="collapsed")
        data: bytes | None = None
        if source == SOURCES[0]:
            up = st.file_uploader(
                "Standing photo, whole body, front, back or side",
                type=UPLOAD_TYPES,
                key="upload", on_change=_on_upload_change,
                help="JPEG, PNG, WebP or HEIC, up to 25 MB. The photo stays on this machine.",
            )
            data = up.getvalue() if up is not None else None
        elif source == SOURCES[1]:
            shot = st.camera_input("Take the photo", key="camera")
            data = shot.getvalue() if shot is not None else None
        else:
            samples = sample_photos()
            choice = st.selectbox(
                "Sample photo", list(samples), key="sample", on_change=_on_sample_change,
                index=None, placeholder="Choose a sample...",
            )
            if choice is not None:
                data = samples[choice][0].read_bytes()
        kept = state.kept_photo(st.session_state)
        if data is not None:
            state.keep_photo(st.session_state, data, str(source))
        elif kept is not None and kept[1] in (str(source), state.SAVED_SOURCE):
            data = kept[0]
            st.caption("The photo from before (kept while you were on another page)"
                       if kept[1] != state.SAVED_SOURCE else "A saved assessment, reopened.")
            st.button("Start with another photo", key="forget_photo", on_click=_forget_kept_photo,
                      icon=":material/restart_alt:")
        st.header("Assessment")
        view = st.radio(
            "View", list(VIEW_LABELS), format_func=VIEW_LABELS.__getitem__, key="view",
            help="Which side of the client faces the camera. In a front or back view left and "
            "right follow from it; a side view is named by the client's side toward the camera.",
        )
        height = st.number_input(
            "Client height (cm, optional)", min_value=50.0, max_value=250.0, value=None, step=1.0,
            format="%.0f", key="height",
            help="Gives lengths in centimetres; without it they are in % of shoulder width.",
        )
    state.remember_widgets(st.session_state)
    if data is None:  # nothing chosen yet; an EMPTY file still goes on, to get its clear error
        return None
    return Inputs(data, hashlib.sha256(data).hexdigest(), str(view), height)


FAILED_KEY = "posture_failed_analysis"
# {analysis key: (the people's boxes, the photo)} of the latest photo with several people in it
PEOPLE_KEY = "posture_people_found"


def clickable_image(rgb: Any, *, key: str, on_click: Any, cursor: str = "crosshair",
                    image_format: str = "JPEG") -> None:
    """A tappable image (streamlit-image-coordinates, an iframe) as wide as ``rgb`` but never wider
    than its column: a container that wide, the image filling it. A tap reports the width the image
    really had, so its position maps back to photo pixels at any size."""
    from streamlit_image_coordinates import streamlit_image_coordinates

    with st.container(width=int(rgb.shape[1]), key=f"box_{key}"):
        streamlit_image_coordinates(rgb, width="stretch", key=key, on_click=on_click,
                                    image_format=image_format, jpeg_quality=90, cursor=cursor)


def _pick_person(sha: str, index: int | None) -> None:
    """The client chosen among several people: their analysis replaces any other's corrections."""
    if index != state.chosen_person(st.session_state, sha):
        state.reset_corrections(st.session_state, sha)
    state.choose_person(st.session_state, sha, index)


def people_ui(sha: str, photo: Photo, boxes: tuple[tuple[float, float, float, float], ...]) -> None:
    """Several people of similar size: the photo with each person's box and number; a tap on a
    person (or their number below) analyses that person."""

    st.warning(
        f"{len(boxes)} people are in this photo. Tap the client on the photo, or choose their "
        "number (counted from the left), to analyse them.", icon=":material/groups:",
    )
    pick_key, tap_key = f"person_pick_{sha[:16]}", f"person_tap_{sha[:16]}"

    def on_pick() -> None:
        value = st.session_state.get(pick_key)
        if isinstance(value, int):
            _pick_person(sha, value)

    def on_tap() -> None:
        xy = state.click_to_full(st.session_state.get(tap_key) or {}, photo.width, photo.height)
        if xy is None:
            return
        inside = [((x1 - x0) * (y1 - y0), i) for i, (x0, y0, x1, y1) in enumerate(boxes)
                  if x0 <= xy[0] <= x1 and y0 <= xy[1] <= y1]
        if inside:  # the smallest box under the tap: the nearer of two overlapping people
            _pick_person(sha, min(inside)[1])

    st.segmented_control(
        "Who is the client?", list(range(len(boxes))), format_func=lambda i: f"Person {i + 1}",
        key=pick_key, on_change=on_pick,
    )
    shown = draw_people(photo.rgb, boxes, photo.scale)
    width = display_width(photo.width, photo.height)
    clickable_image(resize_for_display(shown, width), key=tap_key, on_click=on_tap, cursor="pointer")


def run_analysis(inp: Inputs, slot: Any) -> tuple[Photo, Analysis] | None:
    """The (photo, analysis) for these inputs, from the session cache or a fresh model run.
    Shows errors itself (several people: the picker) and returns None on failure."""
    person = state.chosen_person(st.session_state, inp.sha256)
    key = state.analysis_key(inp.sha256, inp.view, inp.stature_cm, person)
    hit = state.cached_analysis(st.session_state, key)
    if hit is not None:
        photo_c, analysis_c = hit
        return photo_c, analysis_c
    failed = st.session_state.setdefault(FAILED_KEY, {})
    people = st.session_state.setdefault(PEOPLE_KEY, {})
    if key in people:  # several people and none chosen yet: the picker, no model pass
        people_ui(inp.sha256, people[key][1], people[key][0])
        return None
    if key in failed:  # a photo that failed is not analysed again on every rerun
        st.error(failed[key])
        return None
    # the progress box lives in a placeholder that every run creates, so the page below it keeps
    # its place whether or not this run had to analyse (no layout jump, no stale duplicates)
    error: str | None = None
    crowd: tuple[tuple[float, float, float, float], ...] = ()
    with slot.status("Analysing the photo...", expanded=False) as status:
        try:
            status.update(label="Reading the photo...")
            photo = load_photo(inp.data)
            model = get_model()
            status.update(label="Finding the landmarks (several model passes)...")
            analysis = analyze(photo, inp.view, AnalysisOptions(stature_cm=inp.stature_cm, person=person),
                               model=model)
        except MultiplePeopleError as exc:
            error, crowd = str(exc), exc.boxes
        except PostureError as exc:
            error = str(exc)
        except Exception as exc:
            log_failure(log, "analysis", exc)
            error = GENERIC_ERROR
    # done: remove the progress box so the page has the same layout as on later (cached) runs
    slot.empty()
    if error is not None:
        if error != GENERIC_ERROR:  # an unexpected failure may pass on a retry
            failed.clear()  # only the latest bad photo is remembered
            people.clear()
            failed[key] = error
            if crowd:
                people[key] = (crowd, photo)
                people_ui(inp.sha256, photo, crowd)
                return None
        st.error(error)
        return None
    state.store_analysis(st.session_state, key, (photo, analysis))
    return photo, analysis


def apply_corrections(base: Analysis) -> tuple[Analysis, str | None]:
    """The analysis with this session's hand-placed landmarks, the therapist's stance confirmation
    and the findings (no model pass)."""
    points = state.corrections_for(st.session_state, str(base.image["sha256"]), base.view.value)
    # a hand-placed point is as precise as a click on the photo as it is shown here (photo_ui's width)
    full_w, full_h = int(base.image["width"]), int(base.image["height"])
    shown = full_w / max(1, display_width(full_w, full_h))  # photo px per display px
    # what each click really had (the photo as wide as its column, the zoom, a one-pixel nudge):
    # the coarsest of them, when every hand-placed point has one
    recorded = state.precision_for(st.session_state, str(base.image["sha256"]), base.view.value)
    shown = recorded if recorded is not None else shown
    analysis = correct_landmarks(base, points, photo_px_per_display_px=shown) if points else base
    analysis = capture_ui.with_confirmation(analysis, st.session_state)
    return report_bridge.attach_findings(analysis)


# the measurement cards' column (CSS px): beside the photo on a laptop, below it on a tablet
CARDS_WIDTH_PX = 440
# One-photo-pixel nudges of the chosen landmark: (label, help, dx, dy), y down.
NUDGES = (
    ("←", "one photo pixel left", -1, 0),
    ("↑", "one photo pixel up", 0, -1),
    ("↓", "one photo pixel down", 0, 1),
    ("→", "one photo pixel right", 1, 0),
)


def _nudge(sha: str, view: str, landmark: str, point: tuple[float, float], dx: int, dy: int,
           precision: float) -> None:
    state.set_correction(st.session_state, sha, view, landmark, (point[0] + dx, point[1] + dy),
                         precision)


def photo_ui(photo: Photo, analysis: Analysis) -> None:
    """The annotated photo, never wider than its column; a tap moves the chosen landmark there. Then
    the zoom around that landmark to place it finely, and one-photo-pixel nudges."""

    sha = str(analysis.image["sha256"])
    view = analysis.view.value
    full_w, full_h = int(analysis.image["width"]), int(analysis.image["height"])
    names = [c.name for c in state.CORRECTABLE]
    landmark = st.selectbox(
        "Landmark to move", names, format_func=state.LABEL_OF.__getitem__, key="landmark_choice",
        help="Choose the landmark, then tap the photo (or the zoom below it) where it really is. The "
        "measurements update at once; the model is not run again.",
    )
    comp_key = f"click_{sha[:16]}_{view}"

    def on_click() -> None:
        state.apply_click(
            st.session_state, comp_key, st.session_state.get(comp_key),
            sha256=sha, view=view, landmark=str(st.session_state.get("landmark_choice", landmark)),
            full_width=full_w, full_height=full_h,
        )

    shown, legend = report_bridge.annotated_image(photo, analysis)
    width = display_width(full_w, full_h)
    clickable_image(resize_for_display(shown, width), key=comp_key, on_click=on_click)
    hand = ", ".join(state.LABEL_OF.get(n, n) for n in sorted(analysis.manual))
    st.caption(
        "Tap the photo to move the chosen landmark. " + legend
        + (f" Placed by hand: {hand}." if hand else "")
        + " Sides are the client's own: in this "
        + ("front view the client's right is on the LEFT of the photo." if view == "anterior"
           else "back view the client's right is on the RIGHT of the photo." if view == "posterior"
           else f"side view the client's {view} side faces the camera; forward = the client's front.")
    )
    zoom_ui(photo.rgb, analysis, landmark, width)  # the plain photo: no label hides the joint
    with st.container(horizontal=True, gap="small"):
        if st.button("Reset landmarks", disabled=not analysis.manual, icon=":material/undo:",
                     key="reset_landmarks"):
            state.reset_corrections(st.session_state, sha)
            st.rerun()
        if state.chosen_person(st.session_state, sha) is not None and st.button(
            "Choose another person", icon=":material/groups:", key="other_person",
        ):
            _pick_person(sha, None)
            st.rerun()


def zoom_ui(rgb: Any, analysis: Analysis, landmark: str, main_width: int) -> None:
    """A magnified crop around ``landmark`` (ZOOM_FACTOR times the photo above): a tap there places
    it; the arrows move it one photo pixel. Shows where it is in full-photo pixels."""

    sha = str(analysis.image["sha256"])
    view = analysis.view.value
    full_w, full_h = int(analysis.image["width"]), int(analysis.image["height"])
    point = analysis.point_xy(landmark)
    window = zoom_window(point, full_w, full_h, main_width)
    precision = (window[2] - window[0]) / ZOOM_VIEW_PX  # photo px per zoom px as sent
    zoom_key = f"zoom_{sha[:16]}_{view}"

    def on_zoom() -> None:
        state.apply_click(
            st.session_state, zoom_key, st.session_state.get(zoom_key),
            sha256=sha, view=view, landmark=landmark, full_width=full_w, full_height=full_h,
            window=window,
        )

    label = state.LABEL_OF.get(landmark, landmark)
    with st.container(border=True, key="zoom_box"):
        st.markdown(f"**Zoom: {label}**")
        clickable_image(zoom_image(rgb, rgb.shape[1] / full_w, window, point), key=zoom_key,
                        on_click=on_zoom, image_format="PNG")
        with st.container(horizontal=True, gap="small", key="nudges"):
            for arrow, words, dx, dy in NUDGES:
                st.button(arrow, key=f"nudge_{dx}_{dy}", help=f"Move the {label.lower()} {words}",
                          on_click=_nudge, args=(sha, view, landmark, point, dx, dy, precision))
        st.caption(
            f"At x {point[0]:.1f}, y {point[1]:.1f} px of the full photo"
            + (" (placed by hand)" if landmark in analysis.manual else " (the model's)")
            + ". Tap the zoom where it really is; each arrow moves it one photo pixel."
        )


def metric_card(c: Card, key: str) -> None:
    """One measurement as Streamlit's own metric: the value (exactly :func:`fmt_value`), the side in
    words (or why it is unavailable) as its grey delta, then the noise band, the secondary
    quantities and whether it rests on hand-placed points."""
    with st.container(border=True, key=key, gap=None):
        st.metric(
            c.label, c.value,  # library text (no user input); the value exactly fmt_value
            delta=md_escape(c.side + (f" · {c.note}" if c.note else "")),
            delta_color="off", delta_arrow="off",
        )
        lines = [md_escape(t) for t in c.lines]
        if c.hand:
            lines.append(f":orange[{HAND_PLACED}]")
        if lines:
            st.caption(" · ".join(lines))


def measurements_ui(analysis: Analysis) -> None:
    st.subheader("Measurements")
    st.caption(MEASUREMENTS_CAPTION)
    for m in analysis.measurements.values():
        metric_card(card_parts(m, analysis.manual), key=f"card_{m.name}")
    # "<label> unavailable: ..." warnings are already on the greyed cards
    greyed = tuple(f"{m.label} unavailable" for m in analysis.measurements.values() if not m.available)
    for w in analysis.warnings:
        if not w.startswith(greyed) and w not in capture_ui.shown_messages(analysis):
            st.warning(w)
    st.caption(level_text(analysis.level, analysis.scale))


def downloads_ui(photo: Photo, analysis: Analysis) -> None:
    """The PDF report and the JSON of the analysis."""
    st.subheader("Report and export")
    stamp = dt.date.today().isoformat()
    doc = json.dumps(analysis.to_dict(), indent=2, default=str)
    c1, c2 = reflow_row(2)
    with c1:
        client = st.text_input(
            "Client name on the report (optional)", key="report_client", max_chars=CLIENT_NAME_MAX,
            help="Printed on the PDF only; not stored.",
        ).strip() or None
        if "report_blur" not in st.session_state:  # the clinic's default (Settings page)
            st.session_state["report_blur"] = load_settings().blur_faces
        blur = st.checkbox("Blur the face in the report", key="report_blur")
        notes = str(st.session_state.get("save_notes") or "").strip() or None
        when = st.session_state.get("save_date") or dt.date.today()

        def make_pdf() -> bytes:
            # runs only when the button is clicked, on Streamlit's download thread: a failure
            # gives a one-page PDF saying so (nothing can be shown on the page from here)
            return report_bridge.pdf_download(photo, analysis, client, blur, notes, when)

        st.download_button(
            "Download PDF report", make_pdf, file_name=f"posture-report-{stamp}.pdf",
            mime="application/pdf", type="primary", width="stretch", on_click="ignore",
            icon=":material/picture_as_pdf:",
        )
    with c2:
        st.download_button(
            "Download measurements (JSON)", doc, file_name=f"posture-assessment-{stamp}.json",
            mime="application/json", on_click="ignore", width="stretch", icon=":material/download:",
        )


NEW_CLIENT = "New client"
EXISTING_CLIENT = "Existing client"
LAST_SAVED = "posture_last_saved"
SAVE_ERROR = "posture_save_error"


def _do_save(store: Store, photo: Photo, analysis: Analysis, fp: str) -> None:
    """The Save button's callback (runs before the page, so it may reset the form's widgets)."""
    ss = st.session_state
    mode = ss.get("save_mode", NEW_CLIENT)
    ss.pop(SAVE_ERROR, None)
    try:
        cid, aid = saving.save_assessment(
            store, photo, analysis,
            client_id=None if mode == NEW_CLIENT else ss.get("save_client"),
            new_name=str(ss.get("save_new_name") or ""), consent=bool(ss.get("save_consent")),
            notes=str(ss.get("save_notes") or ""), taken_at=ss.get("save_date") or dt.date.today(),
        )
        name = store.get_client(cid).name
    except PostureError as exc:
        ss[SAVE_ERROR] = (fp, str(exc))
        return
    except Exception as exc:
        log_failure(log, "saving the assessment", exc)
        ss[SAVE_ERROR] = (fp, "The assessment could not be saved; nothing was stored. Try again.")
        return
    nav.select_client(cid)
    ss[LAST_SAVED] = {"client_id": cid, "assessment_id": aid, "fingerprint": fp, "name": name}
    # the client now exists: later saves of this session go to them, not to a second new client
    ss["save_mode"] = EXISTING_CLIENT
    ss["save_client"] = cid
    for key in ("save_new_name", "save_notes"):
        ss[key] = ""
    ss["save_consent"] = False


def save_ui(photo: Photo, analysis: Analysis) -> None:
    """"Save to client": pick or create the client, consent, notes, then save the current analysis
    (with its hand-placed landmarks) to the clinic's store."""
    st.subheader("Save to client")
    try:
        store = nav.get_store()
        clients = store.find_clients()
    except PostureError as exc:
        st.error(str(exc))
        return
    except Exception as exc:
        log_failure(log, "opening the store", exc)
        st.error("The client records could not be opened. Check POSTURE_DATA_DIR / POSTURE_DATABASE_URL.")
        return
    ss = st.session_state
    fp = saving.fingerprint(analysis)
    with st.container(border=True):
        modes = [EXISTING_CLIENT, NEW_CLIENT] if clients else [NEW_CLIENT]
        if ss.get("save_mode") not in modes:
            ss["save_mode"] = modes[0]
        mode = st.radio("Save for", modes, horizontal=True, key="save_mode")
        needs_consent = True
        if mode == EXISTING_CLIENT:
            ids = [c.id for c in clients]
            by_id = {c.id: c for c in clients}
            if ss.get("save_client") not in ids:
                current = nav.selected_client()
                ss["save_client"] = current if current in ids else ids[0]
            client_id = st.selectbox("Client", ids, key="save_client",
                                     format_func=lambda i: f"{strip_invisible(by_id[i].name)} (#{i})")
            chosen = by_id[client_id]
            needs_consent = not chosen.consent_given
            if not needs_consent and chosen.consent_at is not None:
                st.caption(f"Consent recorded {chosen.consent_at:%d %b %Y}.")
        else:
            st.text_input("Name or code of the new client", key="save_new_name", max_chars=CLIENT_NAME_MAX,
                          help="A pseudonymous code is enough.")
        if needs_consent:
            st.checkbox("The client consents to storing their photo and measurements on this machine",
                        key="save_consent")
        c1, c2 = reflow_row(2, (FORM_COL_PX, DATE_COL_PX))
        with c1:
            st.text_area("Therapist notes", key="save_notes", height=80, max_chars=NOTES_MAX)
        with c2:
            st.date_input("Date taken", value="today", key="save_date", max_value=dt.date.today())
        last = ss.get(LAST_SAVED)
        saved = bool(last and last.get("fingerprint") == fp)
        hand = len(analysis.manual)
        label = "Save assessment"
        if hand:
            label += f" (with {hand} hand-placed landmark{'s' * (hand != 1)})"
        st.button(label, type="primary", icon=":material/save:", key="save_btn", disabled=saved,
                  on_click=_do_save, args=(store, photo, analysis, fp),
                  help="Already saved; move a landmark or use another photo to save again." if saved
                  else "Saves the photo (without its metadata), the measurements and your notes.")
        error = ss.get(SAVE_ERROR)
        if error and error[0] == fp:
            st.error(error[1])
        if saved and last:
            s1, s2 = reflow_row(2, (FORM_COL_PX, "content"), vertical_alignment="center")
            s1.success(f"Saved as assessment #{last['assessment_id']} of {md_escape(str(last['name']))}.")
            if s2.button("Open the client's timeline", key="open_timeline", icon=":material/timeline:"):
                nav.select_client(int(last["client_id"]))
                nav.switch_to(nav.CLIENTS)


def _use_first_sample() -> None:
    samples = sample_photos()
    if samples:
        first = next(iter(samples))
        st.session_state["source"] = SOURCES[2]
        st.session_state["sample"] = first
        st.session_state["view"] = samples[first][1]


def intro_ui() -> None:
    st.info(
        "Choose a photo in the sidebar: upload one, take one with the camera, or try a sample photo. "
        "The client should stand upright, whole body in the frame, facing or turned away from the camera."
    )
    if sample_photos():
        st.button("Try it with a sample photo", on_click=_use_first_sample, icon=":material/image:")


def render() -> None:
    st.title("New assessment")
    inp = inputs_ui()
    sidebar = (inp.sha256, inp.view) if inp is not None else None
    reopened = visit.opened(st.session_state, sidebar)  # a view of the visit, to correct it
    if reopened is not None:
        inp = Inputs(reopened.data, reopened.sha256, reopened.view, reopened.stature_cm)
        visit.opened_note(reopened)
    if inp is None:
        intro_ui()
        return
    result = run_analysis(inp, st.empty())
    if result is None:
        return
    photo, base = result
    try:
        analysis, note = apply_corrections(base)
    except PostureError as exc:
        st.error(str(exc))
        return
    except Exception as exc:
        log_failure(log, "correction", exc)
        st.error(GENERIC_ERROR)
        return
    # photo and numbers side by side when both fit, the numbers below the photo when not (a tablet
    # with the sidebar open): each keeps a readable width instead of two squeezed columns
    with st.container(horizontal=True, gap="large", key="result_row"):
        with st.container(width=display_width(photo.width, photo.height), key="photo_col"):
            photo_ui(photo, analysis)
        right = st.container(width=CARDS_WIDTH_PX, key="cards_col")
    with right:
        capture_ui.photo_check_ui(analysis)
        measurements_ui(analysis)
    findings_ui(analysis, note)
    downloads_ui(photo, analysis)
    save_ui(photo, analysis)
    visit.visit_ui(photo, base, inp.stature_cm, inp.data, lambda a: apply_corrections(a)[0], sidebar)
