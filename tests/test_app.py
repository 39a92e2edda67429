"""The Streamlit app driven headless with AppTest: upload, errors, samples, landmark correction, cache."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from posture.analysis import analyze
from posture.formatting import UNAVAILABLE
from posture.imaging import load_photo
from posture.pose import PoseModel
from tests.conftest import BACK, FRONT
from ui import state
from ui.components.cards import fmt_value

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 120  # the first run loads the pose model

def cards(at: AppTest) -> dict[str, str]:
    """Measurement label -> the value text shown on its card (an ``st.metric``); 'unavailable: <the
    reason shown under it>' when greyed."""
    return {str(m.label): str(m.value) if m.value != UNAVAILABLE else f"{m.value}: {m.delta}"
            for m in at.metric}


def number(text: str) -> float:
    found = re.match(r"[+-]?\d+(?:\.\d+)?", text)
    assert found, text
    return float(found.group())


def upload(at: AppTest, path: Path, name: str | None = None, mime: str = "image/jpeg") -> AppTest:
    at.file_uploader(key="upload").set_value((name or path.name, path.read_bytes(), mime))
    return at.run(timeout=TIMEOUT)


@pytest.fixture(autouse=True)
def data_dir(app_data_dir: Path) -> Path:
    """Every test gets its own empty clinic store in a tmp dir (tests/conftest.py)."""
    return app_data_dir


@pytest.fixture
def app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    return at


def test_first_visit_explains_what_to_do(app: AppTest) -> None:
    assert not app.error
    assert any("sample photo" in i.value for i in app.info)
    assert [p for p in ("Upload a photo", "Use the camera", "Try a sample photo")] == list(
        app.radio(key="source").options
    )


def test_upload_shows_the_librarys_measurements(app: AppTest, model: PoseModel) -> None:
    upload(app, FRONT)
    assert not app.exception
    assert not app.error
    expected = analyze(load_photo(FRONT.read_bytes()), "anterior", model=model)
    shown = cards(app)
    assert len(shown) == len(expected.measurements)
    for m in expected.measurements.values():
        assert shown[m.label] == fmt_value(m), m.name
    # the JSON export is offered, with the same numbers
    labels = [b.label for b in app.get("download_button")]
    assert "Download measurements (JSON)" in labels
    assert "Download PDF report" in labels


def test_text_named_jpg_gives_a_clear_error(app: AppTest) -> None:
    app.file_uploader(key="upload").set_value(("photo.jpg", b"this is not a photo\n" * 20, "image/jpeg"))
    app.run(timeout=TIMEOUT)
    assert not app.exception
    assert len(app.error) == 1
    msg = app.error[0].value
    assert "not an image" in msg
    assert "Upload a JPEG" in msg  # the hint says what to do
    assert "Traceback" not in msg
    assert cards(app) == {}


def test_a_failed_photo_is_not_analysed_again_on_rerun(
    app: AppTest, model: PoseModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    rgb = np.full((480, 640, 3), 128, np.uint8)  # nobody in it
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    app.file_uploader(key="upload").set_value(("empty-room.png", buf.getvalue(), "image/png"))
    app.run(timeout=TIMEOUT)
    assert "No person" in app.error[0].value
    calls: list[int] = []
    import ui.pages.assessment as page

    monkeypatch.setattr(page, "load_photo", lambda *a, **k: calls.append(1))
    app.run(timeout=TIMEOUT)  # e.g. the view radio touched: same photo, same error, no model run
    assert "No person" in app.error[0].value
    assert calls == []


def test_unexpected_failure_is_generic_and_logs_only_the_type(
    app: AppTest, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("secret detail /home/clinic/client-name.jpg")

    monkeypatch.setattr("ui.pages.assessment.analyze", boom)
    upload(app, FRONT, name="client-name.jpg")
    assert not app.exception
    assert len(app.error) == 1
    assert "secret" not in app.error[0].value and "RuntimeError" not in app.error[0].value
    assert "RuntimeError" in caplog.text
    assert "secret" not in caplog.text and "client-name" not in caplog.text
    # the traceback is logged (where it failed), without the exception's message
    assert "Traceback (most recent call last):" in caplog.text and "in boom" in caplog.text


def test_one_click_sample_for_a_first_time_user(app: AppTest) -> None:
    next(b for b in app.button if b.label == "Try it with a sample photo").click().run(timeout=TIMEOUT)
    assert not app.exception and not app.error
    assert app.radio(key="source").value == "Try a sample photo"
    assert app.selectbox(key="sample").value.startswith("Front view")
    assert app.radio(key="view").value == "anterior"
    assert "Shoulder line tilt" in cards(app)


def test_sample_back_view_switches_the_view_to_posterior(app: AppTest) -> None:
    app.radio(key="source").set_value("Try a sample photo").run(timeout=TIMEOUT)
    box = app.selectbox(key="sample")
    assert any(o.startswith("Front view") for o in box.options)
    back = next(o for o in box.options if o.startswith("Back view"))
    box.set_value(back).run(timeout=TIMEOUT)
    assert not app.exception and not app.error
    assert app.radio(key="view").value == "posterior"
    assert cards(app)  # measured
    # the legs are cut at the knees: the plumb-line measurement is greyed with its reason
    shown = cards(app)
    pelvic = next(v for k, v in shown.items() if k.startswith("Pelvic shift"))
    assert pelvic.startswith("unavailable: ") and "ankle" in pelvic
    # said once, on the card, not again as a warning box
    assert not any(w.value.startswith("Pelvic shift") for w in app.warning)
    assert BACK.name == "coco_000000183709.jpg"  # the sample offered is the conftest BACK photo


def test_reruns_that_change_nothing_run_no_model_pass(
    app: AppTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ui.pages.assessment as page

    calls: list[str] = []
    real = page.analyze

    def counting(*a: Any, **k: Any) -> Any:
        calls.append("x")
        return real(*a, **k)

    monkeypatch.setattr(page, "analyze", counting)
    upload(app, FRONT)
    app.run(timeout=TIMEOUT)
    app.selectbox(key="landmark_choice").set_value("left_hip").run(timeout=TIMEOUT)
    assert len(calls) == 1
    app.number_input(key="height").set_value(180.0).run(timeout=TIMEOUT)
    assert len(calls) == 2
    assert any("cm" in v for v in cards(app).values())


def _shoulder_values(at: AppTest) -> dict[str, float]:
    return {k: number(v) for k, v in cards(at).items() if not v.startswith("unavailable")}


def test_moving_the_right_shoulder_down_raises_shoulder_tilt_only(app: AppTest, model: PoseModel) -> None:
    # with the client's height, lengths are in cm (not % of shoulder width, which the shoulder moves)
    app.number_input(key="height").set_value(175.0)
    upload(app, FRONT)
    before = _shoulder_values(app)
    assert any(v.endswith("cm") for v in cards(app).values())
    base = analyze(load_photo(FRONT.read_bytes()), "anterior", model=model)
    x, y = base.point_xy("right_shoulder")
    drop = 0.04 * base.image["height"]  # 4% of the photo height lower
    sha = str(base.image["sha256"])
    # a click on the displayed image (half size) where the shoulder should be
    shown_w, shown_h = base.image["width"] / 2, base.image["height"] / 2
    click = {"x": x / 2, "y": (y + drop) / 2, "width": shown_w, "height": shown_h, "unix_time": 1}
    st_state: dict[str, Any] = {}
    assert state.apply_click(
        st_state, "k", click, sha256=sha, view="anterior", landmark="right_shoulder",
        full_width=int(base.image["width"]), full_height=int(base.image["height"]),
    )
    app.session_state[state.CORRECTIONS] = st_state[state.CORRECTIONS]
    app.run(timeout=TIMEOUT)
    assert not app.exception and not app.error
    after = _shoulder_values(app)
    assert after["Shoulder line tilt"] > before["Shoulder line tilt"] + 2.0
    # measurements that do not use the right shoulder are untouched
    for label in before:
        if label.startswith(("Hip-joint", "Head tilt", "Pelvic shift")):
            assert after[label] == before[label], label
    # the correction is shown as hand-placed, and can be undone
    assert any("Right shoulder (client's)" in c.value for c in app.caption)
    reset = next(b for b in app.button if b.label == "Reset landmarks")
    assert not reset.disabled
    reset.click().run(timeout=TIMEOUT)
    assert _shoulder_values(app) == before
    assert next(b for b in app.button if b.label == "Reset landmarks").disabled


def test_a_click_already_applied_is_not_applied_again() -> None:
    s: dict[str, Any] = {}
    click = {"x": 10, "y": 20, "width": 100, "height": 200, "unix_time": 5}
    kw: dict[str, Any] = {"sha256": "abc", "view": "anterior", "full_width": 1000, "full_height": 2000}
    assert state.apply_click(s, "k", click, landmark="left_hip", **kw)
    assert state.corrections_for(s, "abc", "anterior") == {"left_hip": (100.0, 200.0)}
    # same click event on a rerun, with another landmark chosen meanwhile: ignored
    assert not state.apply_click(s, "k", click, landmark="right_hip", **kw)
    assert "right_hip" not in state.corrections_for(s, "abc", "anterior")
    # corrections belong to one view of one photo
    assert state.corrections_for(s, "abc", "posterior") == {}
    assert state.corrections_for(s, "other", "anterior") == {}
    # a click outside the picture (or a malformed value) is ignored
    assert not state.apply_click(s, "k", {**click, "x": 150, "unix_time": 6}, landmark="left_hip", **kw)
    assert not state.apply_click(s, "k", {"unix_time": 7}, landmark="left_hip", **kw)
    state.reset_corrections(s, "abc")
    assert state.corrections_for(s, "abc", "anterior") == {}


def test_the_session_cache_is_bounded() -> None:
    s: dict[str, Any] = {}
    for i in range(state.MAX_CACHED_ANALYSES + 3):
        state.store_analysis(s, state.analysis_key(str(i), "anterior", None), i)
    assert len(s[state.ANALYSES]) == state.MAX_CACHED_ANALYSES
    assert state.cached_analysis(s, state.analysis_key("0", "anterior", None)) is None
    last = str(state.MAX_CACHED_ANALYSES + 2)
    assert state.cached_analysis(s, state.analysis_key(last, "anterior", None)) == int(last)


# -- saving to a client ---------------------------------------------------------------------------


def _correct_right_shoulder(app: AppTest, model: PoseModel) -> tuple[float, float]:
    """Move the client's right shoulder 4% of the photo height lower (as a click would)."""
    base = analyze(load_photo(FRONT.read_bytes()), "anterior", model=model)
    x, y = base.point_xy("right_shoulder")
    xy = (x, y + 0.04 * base.image["height"])
    s: dict[str, Any] = {}
    state.set_correction(s, str(base.image["sha256"]), "anterior", "right_shoulder", xy)
    app.session_state[state.CORRECTIONS] = s[state.CORRECTIONS]
    app.run(timeout=TIMEOUT)
    return xy


def _fill_new_client(app: AppTest, name: str, consent: bool, notes: str = "") -> None:
    assert app.radio(key="save_mode").value == "New client"  # the only choice while there is no client
    app.text_input(key="save_new_name").input(name)
    if consent:
        app.checkbox(key="save_consent").check()
    if notes:
        app.text_area(key="save_notes").input(notes)


def _store_contents(data_dir: Path) -> tuple[list[Any], list[Any]]:
    from posture.store import open_store

    with open_store(f"sqlite:///{data_dir / 'posture.db'}") as store:
        clients = store.find_clients()
        records = [r for c in clients for r in store.list_assessments(c.id)]
    return clients, records


def test_save_keeps_the_hand_placed_landmarks(app: AppTest, model: PoseModel, data_dir: Path) -> None:
    upload(app, FRONT)
    xy = _correct_right_shoulder(app, model)
    shown = cards(app)["Shoulder line tilt"]
    _fill_new_client(app, "AB-0042", consent=True, notes="intake, sore right hip")
    save = app.button(key="save_btn")
    assert "1 hand-placed landmark" in save.label
    save.click().run(timeout=TIMEOUT)
    assert not app.exception and not app.error
    # names are markdown-escaped on screen ("AB\-0042"): compare what the therapist reads
    assert any("Saved as assessment" in s.value and "AB-0042" in s.value.replace("\\", "")
               for s in app.success)
    assert app.button(key="save_btn").disabled  # the same analysis is not saved twice by accident
    # the form now points at the client just created (a second save will not create another one)
    assert app.radio(key="save_mode").value == "Existing client"

    clients, records = _store_contents(data_dir)
    assert [c.name for c in clients] == ["AB-0042"] and clients[0].consent_given
    (rec,) = records
    assert rec.notes == "intake, sore right hip" and rec.view == "anterior"
    stored = rec.to_analysis()
    assert stored.manual == frozenset({"right_shoulder"})
    sx, sy = stored.point_xy("right_shoulder")
    assert sx == pytest.approx(xy[0], abs=0.1) and sy == pytest.approx(xy[1], abs=0.1)
    # the stored tilt is the corrected one the page showed, not the model's
    tilt = stored.measurements["shoulder_tilt"]
    assert fmt_value(tilt).split(" ±")[0] == shown.split(" ±")[0]
    base = analyze(load_photo(FRONT.read_bytes()), "anterior", model=model)
    assert tilt.value > base.measurements["shoulder_tilt"].value + 2.0

    # the success message leads to the client's timeline
    app.button(key="open_timeline").click().run(timeout=TIMEOUT)
    assert not app.exception
    assert [t.value for t in app.title] == ["Clients"]
    assert "Assessments (1)" in [h.value for h in app.subheader]


def test_save_without_consent_is_refused(app: AppTest, data_dir: Path) -> None:
    upload(app, FRONT)
    _fill_new_client(app, "CD-7", consent=False)
    app.button(key="save_btn").click().run(timeout=TIMEOUT)
    assert not app.exception
    assert len(app.error) == 1
    assert "consent" in app.error[0].value and "Nothing was saved" in app.error[0].value
    assert not app.success
    assert _store_contents(data_dir) == ([], [])


def test_an_existing_client_without_consent_is_refused_too(app: AppTest, data_dir: Path) -> None:
    from posture.store import open_store

    with open_store(f"sqlite:///{data_dir / 'posture.db'}") as store:
        cid = store.create_client("EF-1", consent_given=False)
    upload(app, FRONT)
    assert app.radio(key="save_mode").value == "Existing client"
    assert app.selectbox(key="save_client").value == cid
    app.button(key="save_btn").click().run(timeout=TIMEOUT)
    assert "consent" in app.error[0].value
    assert _store_contents(data_dir)[1] == []
    # ticking the box records the consent and saves
    app.checkbox(key="save_consent").check()
    app.button(key="save_btn").click().run(timeout=TIMEOUT)
    assert not app.error
    clients, records = _store_contents(data_dir)
    assert clients[0].consent_given and clients[0].consent_at is not None and len(records) == 1


@pytest.mark.parametrize("failure", ["store", "unexpected"])
def test_a_failed_save_shows_an_error_and_stores_nothing(
    app: AppTest, data_dir: Path, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    from posture.store import Store, StoreError

    def broken(self: Store, *a: Any, **k: Any) -> int:
        raise StoreError("The disk is full.") if failure == "store" else OSError("secret /path/x.db")

    monkeypatch.setattr(Store, "save_assessment", broken)
    upload(app, FRONT)
    _fill_new_client(app, "GH-3", consent=True)
    app.button(key="save_btn").click().run(timeout=TIMEOUT)
    assert not app.exception and not app.success
    assert len(app.error) == 1
    if failure == "store":
        assert "The disk is full." in app.error[0].value
    else:
        assert "could not be saved" in app.error[0].value and "secret" not in app.error[0].value
    # the client created for this save was taken back: nothing partial stays in the store
    assert _store_contents(data_dir) == ([], [])
    assert not app.button(key="save_btn").disabled  # the therapist can try again


def test_two_saves_then_the_clients_page_leads_to_compare(app: AppTest, data_dir: Path) -> None:
    second = FRONT.parent / "yogait_tada1.jpg"  # the same man, another photo
    upload(app, FRONT)
    _fill_new_client(app, "IJ-9", consent=True)
    app.button(key="save_btn").click().run(timeout=TIMEOUT)
    upload(app, second)
    assert app.radio(key="save_mode").value == "Existing client"  # the client just created
    assert not app.button(key="save_btn").disabled  # another photo: not saved yet
    app.button(key="save_btn").click().run(timeout=TIMEOUT)
    assert not app.error
    clients, records = _store_contents(data_dir)
    assert len(clients) == 1 and len(records) == 2
    assert records[0].analysis["image"]["sha256"] != records[1].analysis["image"]["sha256"]

    app.button(key="open_timeline").click().run(timeout=TIMEOUT)
    assert "Assessments (2)" in [h.value for h in app.subheader]
    app.button(key="to_compare").click().run(timeout=TIMEOUT)
    assert not app.exception
    assert [t.value for t in app.title] == ["Compare assessments"]
    table = app.dataframe[0].value
    assert "Shoulder line tilt" in list(table["measurement"])


# -- findings on screen ---------------------------------------------------------------------------

HOSTILE = "**Bold** [click](http://example.invalid) <b>x</b> $y$ :material/error:"


def _findings_script() -> None:
    import dataclasses

    from posture.findings import attach_findings
    from tests.test_app import HOSTILE
    from tests.test_compare import synthetic_analysis
    from ui.components.findings import findings_ui

    analysis = attach_findings(synthetic_analysis(right_shoulder_drop_px=60.0))
    first = analysis.findings[0]
    evidence = (dataclasses.replace(first.evidence[0], label=HOSTILE), *first.evidence[1:])
    hostile = dataclasses.replace(first, title=HOSTILE, text=HOSTILE, evidence=evidence,
                                  checks=(HOSTILE,))
    findings_ui(dataclasses.replace(analysis, findings=(hostile, *analysis.findings[1:])), None)


def test_findings_show_their_text_literally() -> None:
    from posture.report.model import md_escape

    at = AppTest.from_function(_findings_script, default_timeout=30).run()
    assert not at.exception
    assert [h.value for h in at.subheader] == ["Findings", "Exercises to consider"]
    markdown, captions = [m.value for m in at.markdown], [c.value for c in at.caption]
    literal = md_escape(HOSTILE)  # every markdown-active character backslash-escaped
    # (and no autolink: a word joiner after the scheme, posture.text.unlinked)
    assert literal.startswith(r"\*\*Bold\*\* \[click\]\(http" + "\u2060" + r"\:")
    # title (after its severity icon), text, evidence, the hands-on check, and the exercises' "For:"
    assert f":material/error: **{literal}** · marked" in markdown
    assert literal in markdown
    assert f"To check by hand:\n- {literal}" in markdown
    assert any(c.startswith(f"Based on: {literal}") for c in captions), captions
    assert any(c.startswith("For: ") and literal in c for c in captions), captions
    assert not any("**Bold**" in v or "<b>" in v or " :material/error:" in v
                   for v in markdown + captions)
    # the exercises matched to the pattern are still offered, and the red flags
    assert len(at.expander) >= 2 and "Red flags" in at.expander[-1].label


# -- the photo check ------------------------------------------------------------------------------


def test_the_stance_confirmation_releases_the_findings_and_is_saved(
    app: AppTest, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ui.pages.assessment as page
    from posture.findings import RED_FLAGS_TITLE
    from posture.report.model import md_escape
    from ui.components.capture import CONFIRM_LABEL

    calls: list[str] = []
    real = page.analyze

    def counting(*a: Any, **k: Any) -> Any:
        calls.append("x")
        return real(*a, **k)

    monkeypatch.setattr(page, "analyze", counting)
    arms_out = FRONT.parent / "yogait_t4.jpg"  # arms held out sideways: not a neutral stance
    upload(app, arms_out)
    assert not app.exception and not app.error
    # the photo check says what failed and what to do; the measurements are still shown
    assert any("arms are not relaxed" in w.value and "let the arms hang" in w.value for w in app.warning)
    assert cards(app)
    # findings and exercises held back with the reason; the red flags stay
    assert any("held back" in i.value for i in app.info)
    assert "Exercises to consider" not in [h.value for h in app.subheader]
    assert any(md_escape(RED_FLAGS_TITLE) == e.label for e in app.expander)
    (box,) = [c for c in app.checkbox if c.label == CONFIRM_LABEL]
    assert box.value is False

    box.check().run(timeout=TIMEOUT)
    assert not app.exception and not app.error
    assert not any("held back" in i.value for i in app.info)
    assert "Findings" in [h.value for h in app.subheader]
    shown = [m.value for m in app.markdown]
    assert any("**" in v and "·" in v for v in shown), "a finding's title and severity are shown"
    (box,) = [c for c in app.checkbox if c.label == CONFIRM_LABEL]
    assert box.value is True
    assert len(calls) == 1  # the confirmation re-attached the findings without a model pass

    # the confirmation is saved with the assessment and comes back with it
    _fill_new_client(app, "KL-5", consent=True)
    app.button(key="save_btn").click().run(timeout=TIMEOUT)
    assert not app.error and app.button(key="save_btn").disabled
    (rec,) = _store_contents(data_dir)[1]
    assert rec.analysis["capture"]["confirmed"] is True and rec.findings
    back = rec.to_analysis()
    assert back.capture is not None and back.capture.confirmed and back.capture.stance_failed
    # taking the confirmation back holds the findings again, and the save is offered again
    next(c for c in app.checkbox if c.label == CONFIRM_LABEL).uncheck().run(timeout=TIMEOUT)
    assert any("held back" in i.value for i in app.info)
    assert not app.button(key="save_btn").disabled


def test_a_neutral_photo_shows_no_box_until_the_view_is_wrong(app: AppTest) -> None:
    from ui.components.capture import CONFIRM_LABEL, CONFIRM_VIEW_LABEL

    upload(app, FRONT.parent / "yogait_tada1.jpg")
    assert not app.exception and not app.error
    assert not [c for c in app.checkbox if c.label == CONFIRM_LABEL]
    assert not any("held back" in i.value for i in app.info)
    assert not any("arms are not relaxed" in w.value for w in app.warning)
    assert "Findings" in [h.value for h in app.subheader]
    # the same front photo declared a back view: the view check holds the findings, and the box
    # asks about the view, not the stance
    app.radio(key="view").set_value("posterior").run(timeout=TIMEOUT)
    assert sum("declared a posterior" in w.value for w in app.warning) == 1  # in the photo check only
    assert any("held back" in i.value for i in app.info)
    assert [c.label for c in app.checkbox if "confirm to see findings" in c.label] == [CONFIRM_VIEW_LABEL]
