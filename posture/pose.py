"""The only module that imports mediapipe: an RGB array -> candidate poses (+ segmentation mask).

One job: load the pose model once and run it. Its place in the layers: the bottom, beside
``posture.imaging``; it imports only ``posture.errors`` (and mediapipe, lazily), and everything
that needs landmarks (sides, refine, metrics, analysis) imports it. Landmark indices are named here
(:class:`Landmark`) and nowhere else. Coordinates are pixels of the array given to the model, x
right, y DOWN; images are RGB uint8.

The pose model is MediaPipe's BlazePose "full" landmarker, shipped inside the package as
``models/pose_landmarker_full.task`` (built by ``tools/build_pose_model.py``; Apache-2.0, see
``models/NOTICE``). Nothing is downloaded. Another ``.task`` bundle (e.g. the official "heavy" model)
can be used by passing ``model_path`` or setting the ``POSTURE_MODEL`` environment variable; the
bundled file is checked against its SHA-256 before use.

The model's own left/right labels are kept as :class:`Landmark` names here; the analysis assigns the
client's anatomical sides from the declared view and the geometry (see ``posture.sides``).

Several at once: a :class:`PoseModel` is a POOL of landmarkers (one per CPU by default,
``workers=`` or ``$POSTURE_POSE_WORKERS``). Each landmarker serves one pass at a time, so sessions
run side by side, and :meth:`PoseModel.detect_many` spreads one analysis's passes over the pool
(``spread=False`` / ``$POSTURE_POSE_SPREAD=0``: one after the other). A freed landmarker goes to the
waiting pass of the OLDEST analysis (:meth:`PoseModel.in_turn`; ``analyze()`` takes a turn): when
four rooms upload at once the first analysis is served first and its result shows while the later
ones run, instead of all four being interleaved pass by pass and finishing together at the end.
A pass gives the same landmarks whichever landmarker serves it.

mediapipe's C++ side logs to file descriptor 2 (GLOG/TF variables do not silence it) when a
landmarker is created, on its first pass and when it is closed. fd 2 is pointed at /dev/null only
then, under one process-wide lock: at creation with a warm-up pass on a drawn figure (before any
caller can use that landmarker) and at close - never during a served pass, so the log lines and
tracebacks of other threads (other app sessions) are never lost.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import heapq
import itertools
import multiprocessing
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any

import numpy as np

from posture.errors import ModelError
from posture.geometry import level_points, rotate_points_cw

BUNDLED_MODEL = Path(__file__).parent / "models" / "pose_landmarker_full.task"
BUNDLED_MODEL_SHA256 = "d1a35b183b3de78e4e0deb2db371201caf61c07ae3c56bd7cbf2862015752cae"
MODEL_ENV = "POSTURE_MODEL"

# People the model looks for in one image: the client plus up to five bystanders, enough to tell a
# photo with one clear client from an ambiguous one (see ``AnalysisOptions.ambiguous_area_ratio``)
# and to let the therapist pick the client among a small group (``AnalysisOptions.person``).
MAX_POSES = 6
# MediaPipe's own default confidences for its person detector and for the landmarker's "a person is
# present" score (0..1).
MIN_POSE_DETECTION_CONFIDENCE = 0.5
MIN_POSE_PRESENCE_CONFIDENCE = 0.5
# A landmark at or above this visibility is placed confidently enough to span a person's box ...
BBOX_MIN_VISIBILITY = 0.3
# ... and with fewer than this many such landmarks the box spans all of them.
BBOX_MIN_POINTS = 4
# The pool's size: this variable (a whole number >= 1), else one landmarker per CPU this process may
# use - one in a worker process (``posture analyze --jobs``: the processes are the parallelism).
WORKERS_ENV = "POSTURE_POSE_WORKERS"
# Whether detect_many spreads one caller's passes over the pool (default) or runs them one after the
# other on whichever landmarker is free ("0"/"false": sessions still run side by side).
SPREAD_ENV = "POSTURE_POSE_SPREAD"
# Closing waits this long for a pass in flight to hand its landmarker back (a hung pass is left).
CLOSE_WAIT_S = 30.0
# The turn (arrival number) of the analysis running in this context, set by PoseModel.in_turn; the
# numbers come from one process-wide count, so a turn means the same in every model of the process.
_TURN: contextvars.ContextVar[int | None] = contextvars.ContextVar("posture_pose_turn", default=None)
_ARRIVALS = itertools.count()
# The warm-up figure's height in pixels (its width is 3/4 of it); the model finds a person in it.
WARMUP_FIGURE_PX = 384


class Landmark(IntEnum):
    """BlazePose's 33 landmarks, named as the MODEL labels them (its guess of the person's side)."""

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


def _mirror_table() -> np.ndarray:
    """Index permutation that swaps every LEFT_* landmark with its RIGHT_* twin."""
    perm = np.arange(len(Landmark))
    for lm in Landmark:
        name = lm.name
        for a, b in (("LEFT", "RIGHT"), ("RIGHT", "LEFT")):
            if a in name:
                perm[lm] = Landmark[name.replace(a, b)]
    return perm


MIRROR_PERMUTATION = _mirror_table()


@dataclass(frozen=True)
class RawPose:
    """One detected person in the pixel frame of the array given to :meth:`PoseModel.detect`.

    ``points`` has shape (33, 4): x, y (pixels, y down), visibility, presence; rows follow
    :class:`Landmark` (model labels). ``mask`` is the person's segmentation (float32 0..1, HxW).
    """

    points: np.ndarray = field(repr=False)
    mask: np.ndarray | None = field(repr=False, default=None)

    def bbox(self, min_visibility: float = BBOX_MIN_VISIBILITY,
             level_deg: float = 0.0) -> tuple[float, float, float, float]:
        """x0, y0, x1, y1 of the confidently placed landmarks.

        With ``level_deg`` (the camera roll, clockwise on screen) the extents are measured along true
        horizontal and vertical instead of the photo's rows and columns: the box is centred where the
        levelled box's centre lies on the photo and is as wide and tall as the body is along the
        level. That is what a crop turned level must frame: the photo's own box of a body seen on a
        camera turned by 6° is ~10 % of its height wider, so the crop, and the lines the model reads
        in it, would change with the camera."""
        pts = self.points[self.points[:, 2] >= min_visibility]
        if len(pts) < BBOX_MIN_POINTS:
            pts = self.points
        if level_deg:
            q = level_points(pts[:, :2], level_deg, (0.0, 0.0))  # the points turned level
            lo, hi = q.min(axis=0), q.max(axis=0)
            half_w, half_h = (float(v) for v in (hi - lo) / 2.0)
            # that box's centre turned back onto the photo
            cx, cy = (float(v) for v in rotate_points_cw((lo + hi)[None, :] / 2.0, level_deg, (0.0, 0.0))[0])
            return (cx - half_w, cy - half_h, cx + half_w, cy + half_h)
        return (
            float(pts[:, 0].min()),
            float(pts[:, 1].min()),
            float(pts[:, 0].max()),
            float(pts[:, 1].max()),
        )


# every redirection of fd 2 in this process: two can never interleave their save/restore
_FD2_LOCK = threading.Lock()


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Point fd 2 at /dev/null for mediapipe's C++ logging (it ignores GLOG/TF env vars), under the
    process-wide lock. Only for creating, warming up and closing a landmarker: never a served pass."""
    with _FD2_LOCK:
        try:
            saved = os.dup(2)
        except OSError:  # no fd 2 (embedded interpreter)
            yield
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)


def default_workers() -> int:
    """``$POSTURE_POSE_WORKERS``, else the CPUs this process may use (1 in a worker process)."""
    raw = os.environ.get(WORKERS_ENV, "").strip()
    if raw:
        try:
            n = int(raw)
        except ValueError:
            n = 0
        if n < 1:
            raise ModelError(f"{WORKERS_ENV} must be a whole number of at least 1 (it is {raw!r}).")
        return n
    if multiprocessing.parent_process() is not None:
        return 1
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def default_spread() -> bool:
    """``$POSTURE_POSE_SPREAD`` ("0", "false", "no", "off" -> False), else True."""
    return os.environ.get(SPREAD_ENV, "").strip().lower() not in ("0", "false", "no", "off")


def warmup_figure(height: int = WARMUP_FIGURE_PX) -> np.ndarray:
    """A drawn standing figure (RGB uint8) in which the model finds a person: a warm-up pass on it
    runs the whole graph (detector AND landmarks), so every first-pass log line is written then."""
    import cv2

    w = height * 3 // 4
    img = np.full((height, w, 3), 200, np.uint8)
    cx, u = w // 2, height / 16.0
    skin, shirt, trousers, shoes = (224, 172, 140), (40, 80, 160), (50, 50, 60), (30, 30, 30)

    def pt(x: float, y: float) -> tuple[int, int]:
        return round(x), round(y)

    cv2.ellipse(img, pt(cx, 2 * u), pt(0.9 * u, 1.2 * u), 0, 0, 360, skin, -1)
    cv2.rectangle(img, pt(cx - 0.35 * u, 3 * u), pt(cx + 0.35 * u, 3.6 * u), skin, -1)
    trunk = np.array([pt(cx - 2 * u, 3.6 * u), pt(cx + 2 * u, 3.6 * u), pt(cx + 1.5 * u, 8 * u),
                      pt(cx - 1.5 * u, 8 * u)], np.int32)
    cv2.fillPoly(img, [trunk], shirt)
    for s in (-1, 1):
        cv2.line(img, pt(cx + s * 2 * u, 3.9 * u), pt(cx + s * 2.4 * u, 8.2 * u), shirt, int(0.8 * u))
        cv2.circle(img, pt(cx + s * 2.4 * u, 8.5 * u), int(0.4 * u), skin, -1)
        cv2.line(img, pt(cx + s * 0.8 * u, 8 * u), pt(cx + s * 0.9 * u, 14.5 * u), trousers, int(1.1 * u))
        cv2.ellipse(img, pt(cx + s * 1.1 * u, 14.9 * u), pt(0.7 * u, 0.35 * u), 0, 0, 360, shoes, -1)
    return img


# The bundled model's files whose SHA-256 was checked, by identity (path, inode, size, mtime): the
# 9 MB file is hashed once per identity, not on every analyze(); a rewritten file is checked again.
_verified_models: set[tuple[str, int, int, int]] = set()


def resolve_model_path(model_path: str | Path | None = None) -> Path:
    """Explicit path > ``$POSTURE_MODEL`` > the bundled model (hash-checked once per file identity)."""
    chosen = model_path or os.environ.get(MODEL_ENV) or None
    path = Path(chosen) if chosen else BUNDLED_MODEL
    if not path.is_file():
        raise ModelError(f"Pose model file not found: {path}.")
    resolved = path.resolve()
    if resolved == BUNDLED_MODEL.resolve():
        st = resolved.stat()
        identity = (str(resolved), st.st_ino, st.st_size, st.st_mtime_ns)
        if identity not in _verified_models:
            digest = hashlib.sha256(resolved.read_bytes()).hexdigest()
            if digest != BUNDLED_MODEL_SHA256:
                raise ModelError("The bundled pose model is damaged (SHA-256 mismatch).")
            _verified_models.add(identity)
    return path


class _Landmarker:
    """One MediaPipe ``PoseLandmarker``: one pass at a time (the pool hands it to one caller)."""

    def __init__(self, vision: Any, options: Any, warmup: Any) -> None:
        with _quiet_stderr():  # creation and the first pass log to fd 2: before anyone uses it
            self.task = vision.PoseLandmarker.create_from_options(options)
            self.task.detect(warmup)
        self.served = 0  # passes served (counted by the one caller that holds it)

    def close(self) -> None:
        try:
            with _quiet_stderr():
                self.task.close()
        except RuntimeError:  # interpreter shutdown: mediapipe's executor is already gone
            pass


class _Spreader:
    """Threads that run the passes :meth:`PoseModel.detect_many` spreads, the earliest turn first (a
    plain executor would serve them in submission order: an analysis's next round would queue behind
    every later analysis's round, and all of them would finish together at the end)."""

    _STOP = sys.maxsize  # the turn of the stop entries: after every job

    def __init__(self, threads: int) -> None:
        self._jobs: queue.PriorityQueue[tuple[int, int, Callable[[], Any] | None, Future[Any] | None]] = (
            queue.PriorityQueue())
        self._seq = itertools.count()
        self._stopped = False
        self._threads = [threading.Thread(target=self._run, name=f"posture-pose-{i}", daemon=True)
                         for i in range(threads)]
        for t in self._threads:
            t.start()

    def submit(self, turn: int, fn: Callable[[], Any]) -> Future[Any]:
        if self._stopped:
            raise ModelError("The pose model was closed.")
        fut: Future[Any] = Future()
        self._jobs.put((turn, next(self._seq), fn, fut))
        return fut

    def _run(self) -> None:
        while True:
            _turn, _seq, fn, fut = self._jobs.get()
            if fn is None or fut is None:
                return
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn())
            except BaseException as exc:  # handed to the caller waiting on the future
                fut.set_exception(exc)

    def stop(self) -> None:
        """No new jobs; the queued ones fail with "closed"; the threads end after their current job."""
        self._stopped = True
        while True:
            try:
                _t, _s, _fn, fut = self._jobs.get_nowait()
            except queue.Empty:
                break
            if fut is not None and fut.set_running_or_notify_cancel():
                fut.set_exception(ModelError("The pose model was closed."))
        for _ in self._threads:
            self._jobs.put((self._STOP, next(self._seq), None, None))


class PoseModel:
    """A pool of MediaPipe ``PoseLandmarker`` instances in IMAGE mode (``workers`` of them, default
    :func:`default_workers`). Create once, use from any thread, then close.

    Each landmarker runs one image at a time (a free one is handed to one pass, so no instance is
    ever shared between two threads at once); :meth:`detect_many` spreads several passes over the
    pool. Waiting passes are served by turn: the pass of the analysis that arrived first
    (:meth:`in_turn`) gets the next free landmarker; a pass outside any turn takes one at its call.
    """

    def __init__(self, model_path: str | Path | None = None, max_poses: int = MAX_POSES,
                 workers: int | None = None, spread: bool | None = None) -> None:
        self.path = resolve_model_path(model_path)
        self.workers = default_workers() if workers is None else workers
        self.spread = default_spread() if spread is None else spread
        if self.workers < 1:
            raise ModelError(f"A pose model needs at least one landmarker (workers={self.workers}).")
        self._all: list[_Landmarker] = []
        # the pool's state, under one condition: free landmarkers, the waiting passes as a heap of
        # (turn, arrival) - the smallest is served first - and whether the model is closed
        self._cv = threading.Condition()
        self._free: list[_Landmarker] = []
        self._waiting: list[tuple[int, int]] = []
        self._count_lock = threading.Lock()
        self._closed = False
        self.passes = 0
        try:
            import mediapipe as mp
            from mediapipe.tasks.python import BaseOptions, vision

            options = vision.PoseLandmarkerOptions(
                base_options=BaseOptions(model_asset_buffer=self.path.read_bytes()),
                running_mode=vision.RunningMode.IMAGE,
                num_poses=max_poses,
                min_pose_detection_confidence=MIN_POSE_DETECTION_CONFIDENCE,
                min_pose_presence_confidence=MIN_POSE_PRESENCE_CONFIDENCE,
                output_segmentation_masks=True,
            )
            warmup = mp.Image(image_format=mp.ImageFormat.SRGB, data=warmup_figure())
            for _ in range(self.workers):
                self._all.append(_Landmarker(vision, options, warmup))
        except ModelError:
            raise
        except Exception as exc:  # mediapipe raises RuntimeError/ValueError on bad bundles
            for lm in self._all:
                lm.close()
            raise ModelError(f"The pose model could not be loaded ({exc}).") from None
        self._free.extend(self._all)
        self._mp = mp
        # spreads detect_many over the pool; its threads only ever run detect()
        self._spreader = _Spreader(self.workers)

    @contextlib.contextmanager
    def in_turn(self) -> Iterator[int]:
        """Take a turn for the passes run inside (in this thread and those :meth:`detect_many` spreads
        them to): while landmarkers are scarce, an earlier turn's passes are served before a later
        one's. Nested, the outer turn is kept. Yields the turn."""
        current = _TURN.get()
        if current is not None:
            yield current
            return
        turn = next(_ARRIVALS)
        token = _TURN.set(turn)
        try:
            yield turn
        finally:
            _TURN.reset(token)

    def _take(self, turn: int | None) -> _Landmarker:
        """A free landmarker for a pass of ``turn`` (None: a turn of its own, taken now); waits while
        every one is busy or an earlier turn is waiting."""
        with self._cv:
            entry = (next(_ARRIVALS) if turn is None else turn, next(_ARRIVALS))
            heapq.heappush(self._waiting, entry)
            try:
                while not self._closed and not (self._free and self._waiting[0] == entry):
                    self._cv.wait()
                if self._closed:
                    raise ModelError("The pose model was closed.")
                return self._free.pop()
            finally:
                self._waiting.remove(entry)
                heapq.heapify(self._waiting)
                self._cv.notify_all()  # the next turn may take the next free one

    def _give_back(self, lm: _Landmarker) -> None:
        with self._cv:
            self._free.append(lm)
            self._cv.notify_all()

    def detect(self, rgb: np.ndarray) -> list[RawPose]:
        """Run the model once on an RGB uint8 array; return every person found."""
        return self._detect(rgb, _TURN.get())

    def _detect(self, rgb: np.ndarray, turn: int | None) -> list[RawPose]:
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError("detect() needs an RGB uint8 array of shape (H, W, 3)")
        h, w = rgb.shape[:2]
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        lm = self._take(turn)
        try:
            result = lm.task.detect(image)
            lm.served += 1
        finally:
            self._give_back(lm)
        with self._count_lock:
            self.passes += 1
        poses: list[RawPose] = []
        masks = result.segmentation_masks or []
        for i, lms in enumerate(result.pose_landmarks):
            pts = np.array(
                [[p.x * w, p.y * h, p.visibility or 0.0, p.presence or 0.0] for p in lms],
                dtype=np.float64,
            )
            mask = None
            if i < len(masks):
                mask = np.array(masks[i].numpy_view(), dtype=np.float32).reshape(h, w)
            poses.append(RawPose(points=pts, mask=mask))
        return poses

    @property
    def waiting(self) -> int:
        """Passes waiting for a free landmarker now."""
        with self._cv:
            return len(self._waiting)

    @property
    def served(self) -> tuple[int, ...]:
        """Passes served by each landmarker of the pool so far."""
        return tuple(lm.served for lm in self._all)

    def detect_many(self, images: Sequence[np.ndarray]) -> list[list[RawPose]]:
        """One pass per image, spread over the pool; results in the order of ``images``, the same
        as ``[detect(i) for i in images]`` (which it is when ``spread`` is off)."""
        turn = _TURN.get()
        if not self.spread or self.workers == 1 or len(images) <= 1:
            return [self._detect(im, turn) for im in images]
        if turn is None:  # one turn for the whole batch, as if it were one analysis
            turn = next(_ARRIVALS)
        futures = [self._spreader.submit(turn, functools.partial(self._detect, im, turn)) for im in images]
        return [f.result() for f in futures]

    def close(self) -> None:
        """Close every landmarker once the passes in flight have handed theirs back."""
        with self._cv:
            if self._closed:
                return
            self._closed = True
            self._cv.notify_all()  # every waiting pass learns that the model is closed
        self._spreader.stop()
        deadline = time.monotonic() + CLOSE_WAIT_S
        with self._cv:
            # the passes in flight hand theirs back; a pass that never returns keeps its landmarker
            while len(self._free) < len(self._all) and (left := deadline - time.monotonic()) > 0:
                self._cv.wait(left)
            back, self._free = self._free, []
        for lm in back:
            lm.close()

    def __enter__(self) -> PoseModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_shared: dict[str, PoseModel] = {}
_shared_lock = threading.Lock()


def shared_model(model_path: str | Path | None = None) -> PoseModel:
    """The process-wide model for ``model_path`` (created on first use, never reloaded)."""
    key = str(resolve_model_path(model_path).resolve())
    with _shared_lock:
        model = _shared.get(key)
        if model is None:
            model = PoseModel(key)
            _shared[key] = model
            # close before mediapipe's own executor shuts down (threading's exit hooks run in
            # reverse order of registration, before atexit handlers)
            register = getattr(threading, "_register_atexit", None)
            if register is not None:
                register(model.close)
            else:  # pragma: no cover
                import atexit

                atexit.register(model.close)
        return model
