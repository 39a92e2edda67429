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
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path

import numpy as np

from posture.errors import ModelError

BUNDLED_MODEL = Path(__file__).parent / "models" / "pose_landmarker_full.task"
BUNDLED_MODEL_SHA256 = "d1a35b183b3de78e4e0deb2db371201caf61c07ae3c56bd7cbf2862015752cae"
MODEL_ENV = "POSTURE_MODEL"

# People the model looks for in one image: the client plus up to two bystanders, enough to tell a
# photo with one clear client from an ambiguous one (see ``AnalysisOptions.ambiguous_area_ratio``).
MAX_POSES = 3
# MediaPipe's own default confidences for its person detector and for the landmarker's "a person is
# present" score (0..1).
MIN_POSE_DETECTION_CONFIDENCE = 0.5
MIN_POSE_PRESENCE_CONFIDENCE = 0.5
# A landmark at or above this visibility is placed confidently enough to span a person's box ...
BBOX_MIN_VISIBILITY = 0.3
# ... and with fewer than this many such landmarks the box spans all of them.
BBOX_MIN_POINTS = 4


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

    def bbox(self, min_visibility: float = BBOX_MIN_VISIBILITY) -> tuple[float, float, float, float]:
        """x0, y0, x1, y1 of the confidently placed landmarks."""
        pts = self.points[self.points[:, 2] >= min_visibility]
        if len(pts) < BBOX_MIN_POINTS:
            pts = self.points
        return (
            float(pts[:, 0].min()),
            float(pts[:, 1].min()),
            float(pts[:, 0].max()),
            float(pts[:, 1].max()),
        )


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """mediapipe's C++ logging writes to fd 2 and ignores GLOG/TF env vars: silence it here."""
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


def resolve_model_path(model_path: str | Path | None = None) -> Path:
    """Explicit path > ``$POSTURE_MODEL`` > the bundled model (hash-checked)."""
    chosen = model_path or os.environ.get(MODEL_ENV) or None
    path = Path(chosen) if chosen else BUNDLED_MODEL
    if not path.is_file():
        raise ModelError(f"Pose model file not found: {path}.")
    if path.resolve() == BUNDLED_MODEL.resolve():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != BUNDLED_MODEL_SHA256:
            raise ModelError("The bundled pose model is damaged (SHA-256 mismatch).")
    return path


class PoseModel:
    """A MediaPipe ``PoseLandmarker`` in IMAGE mode. Create once, use many times, then close.

    ``detect`` is serialised with a lock: a landmarker must not run two images at once.
    """

    def __init__(self, model_path: str | Path | None = None, max_poses: int = MAX_POSES) -> None:
        self.path = resolve_model_path(model_path)
        self._lock = threading.Lock()
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
            with _quiet_stderr():
                self._landmarker = vision.PoseLandmarker.create_from_options(options)
        except ModelError:
            raise
        except Exception as exc:  # mediapipe raises RuntimeError/ValueError on bad bundles
            raise ModelError(f"The pose model could not be loaded ({exc}).") from None
        self._mp = mp
        self.passes = 0

    def detect(self, rgb: np.ndarray) -> list[RawPose]:
        """Run the model once on an RGB uint8 array; return every person found."""
        if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError("detect() needs an RGB uint8 array of shape (H, W, 3)")
        h, w = rgb.shape[:2]
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        with self._lock, _quiet_stderr():
            if self._landmarker is None:
                raise ModelError("The pose model was closed.")
            result = self._landmarker.detect(image)
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

    def close(self) -> None:
        with self._lock:
            if self._landmarker is not None:
                try:
                    with _quiet_stderr():
                        self._landmarker.close()
                except RuntimeError:  # interpreter shutdown: mediapipe's executor is already gone
                    pass
                self._landmarker = None

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
