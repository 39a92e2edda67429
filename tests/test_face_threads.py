"""The face check runs in several app sessions at once: it must give each the serial answer."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from posture import face
from posture.face import find_faces
from tests.conftest import FRONT, rgb_of


def test_find_faces_from_many_threads_at_once_gives_the_serial_answer() -> None:
    """OpenCV's CascadeClassifier is not safe to share between threads (two sessions checking a view
    at once made detectMultiScale raise cv2.error in the app server): each thread gets its own."""
    rgb = rgb_of(FRONT)
    h, w = rgb.shape[:2]
    # head boxes over the top of the photo (some with the face, some without), big enough to judge
    boxes = [(x, y, x + w // 3, y + h // 5) for x in range(0, w - w // 3, max(w // 12, 1))
             for y in range(0, h // 3, max(h // 15, 1))]
    expected = [find_faces(rgb, b) for b in boxes]
    assert any(found for _ok, found in expected) and not all(found for _ok, found in expected)
    errors: list[BaseException] = []
    wrong: list[int] = []
    start = threading.Barrier(4)

    def work(seed: int) -> None:
        order = np.random.default_rng(seed).permutation(len(boxes))
        start.wait()
        try:
            for _ in range(3):
                for i in order:
                    if find_faces(rgb, boxes[i]) != expected[i]:
                        wrong.append(int(i))
        except BaseException as exc:  # the test reports whatever a thread raised
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert not wrong


def test_cascades_are_loaded_once_not_per_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """Streamlit runs every script run in a new thread: the cascades a finished call used are
    borrowed by the next one instead of being loaded from their XML files again."""
    loads: list[int] = []
    real = face._load_cascades

    def counting() -> tuple[object, ...]:
        loads.append(1)
        return real()

    monkeypatch.setattr(face, "_load_cascades", counting)
    rgb = rgb_of(FRONT)
    h, w = rgb.shape[:2]
    answers = []
    for _ in range(6):  # one after the other, each in a thread of its own
        t = threading.Thread(target=lambda: answers.append(find_faces(rgb, (0, 0, w // 2, h // 3))))
        t.start()
        t.join()
    assert len(answers) == 6 and len(set(answers)) == 1
    assert len(loads) <= 1
