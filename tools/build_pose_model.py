"""Build ``posture/models/pose_landmarker_full.task`` from the mediapipe 0.10.21 wheel.

Current mediapipe releases ship no pose model and their download step needs the network, which a
clinic machine (and our CI) does not have. The 0.10.21 wheel still contains the two TFLite graphs of
the "full" pose model. The Tasks API ``PoseLandmarker`` accepts them once each carries TFLite
metadata describing its input normalisation, zipped together as a model asset bundle.

Run it in a throw-away environment that has ``mediapipe==0.10.21`` (it needs numpy < 2)::

    python3 -m venv /tmp/mp21 && /tmp/mp21/bin/pip install mediapipe==0.10.21
    /tmp/mp21/bin/python tools/build_pose_model.py

It prints the SHA-256 of the bundle; copy it into ``posture/pose.py`` (``BUNDLED_MODEL_SHA256``).
The models are Apache-2.0 (see ``posture/models/NOTICE``).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "posture" / "models" / "pose_landmarker_full.task"

# (file in the wheel, name inside the bundle, input mean, input std, number of outputs)
PARTS = (
    ("modules/pose_detection/pose_detection.tflite", "pose_detector.tflite", 127.5, 127.5, 2),
    ("modules/pose_landmark/pose_landmark_full.tflite", "pose_landmarks_detector.tflite", 0.0, 255.0, 5),
)


def main() -> int:
    import mediapipe
    from mediapipe.tasks.python.metadata.metadata_writers import (
        metadata_writer,
        model_asset_bundle_utils,
    )

    if not mediapipe.__version__.startswith("0.10.21"):
        print(f"needs mediapipe 0.10.21, found {mediapipe.__version__}", file=sys.stderr)
        return 2
    root = Path(mediapipe.__file__).parent
    models: dict[str, bytes] = {}
    for src, name, mean, std, n_out in PARTS:
        buf = bytearray((root / src).read_bytes())
        writer = metadata_writer.MetadataWriter.create(buf)
        writer.add_general_info(name.removesuffix(".tflite"), f"MediaPipe BlazePose ({src})")
        writer.add_image_input(norm_mean=[mean], norm_std=[std])
        for _ in range(n_out):
            writer.add_feature_output()
        model, _json = writer.populate()
        models[name] = bytes(model)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    model_asset_bundle_utils.create_model_asset_bundle(models, str(OUT))
    digest = hashlib.sha256(OUT.read_bytes()).hexdigest()
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)\nsha256 {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
