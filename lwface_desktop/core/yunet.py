"""Faces with OpenCV's YuNet (cv2.FaceDetectorYN; the MIT-licensed 232 KB model is bundled).

On real photos the classic cascade finds about one face in five; YuNet finds most, profiles,
caps and grey photos included. The model takes any input size and its cost grows with the
pixels, so a photo is scanned at most WORK_SIDE px on its long side. This is the plain call
with a measured score threshold; more scales, tiles and their fusion (for small faces, where
YuNet loses) are issue 9's next step.
"""

from __future__ import annotations

import hashlib
import threading
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from lwface_desktop.core.detection import Detection, Detector
from lwface_desktop.core.errors import ModelError
from lwface_desktop.core.resources import resource_path

# The model loader's notes ("Targets are not supported by the new graph engine") are not the user's.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)

MODEL_NAME = "face_detection_yunet_2023mar.onnx"
MODEL_SHA256 = "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4"
# Measured on held-out real photos (DESIGN.md): the model zoo's 0.9 keeps a quarter of the
# faces; 0.6 keeps 79% of large faces at precision 0.96. On the dev set (../shared/faces), 0.6
# finds all 43 faces with one false box (precision 0.98).
MIN_SCORE = 0.6
WORK_SIDE = 1280      # a 12 MP photo at full size takes ~1.9 s; at 1280 px ~0.27 s
NMS_IOU = 0.3         # YuNet's own suppression of overlapping boxes


def model_path() -> Path:
    return resource_path("models", MODEL_NAME)


class YuNetFaces(Detector):
    """Faces and their 5 landmarks (eyes, nose tip, mouth corners). Thread-safe."""

    label = "face"
    decode_side = WORK_SIDE  # it never looks at more: a reduced JPEG decode is as good

    def __init__(self, model: str | Path | None = None, min_score: float = MIN_SCORE):
        path = Path(model) if model else model_path()
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            raise ModelError(f"The face model {path} is missing; reinstall lwface-desktop "
                             "(the classic cascade still works).") from None
        if digest != MODEL_SHA256:
            raise ModelError(f"The face model {path} is damaged (its SHA-256 is not YuNet's); reinstall "
                             "lwface-desktop (the classic cascade still works).")
        self._net = cv2.FaceDetectorYN.create(str(path), "", (320, 320), min_score, NMS_IOU, 5000)
        self.min_score = min_score
        self._lock = threading.Lock()  # one network, one input size at a time

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Faces in image (HxWx3 uint8 RGB), best first; boxes and landmarks in its pixels."""
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        bgr = np.ascontiguousarray(image[..., ::-1])  # the model was trained on BGR
        rows = self._pass(bgr, min(1.0, WORK_SIDE / max(image.shape[:2])))
        rows = rows[np.argsort(-rows[:, 14])]
        return [Detection(float(x), float(y), float(x + w), float(y + h), float(row[14]), self.label,
                          tuple((float(row[i]), float(row[i + 1])) for i in range(4, 14, 2)))
                for row in rows for x, y, w, h in [row[:4]]]

    def _pass(self, bgr: np.ndarray, scale: float) -> np.ndarray:
        """YuNet's N x 15 rows (x, y, w, h, 5 landmark x/y pairs, score) in the image's pixels."""
        height, width = bgr.shape[:2]
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        scaled = bgr if size == (width, height) else cv2.resize(
            bgr, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        with self._lock:
            self._net.setInputSize(size)
            _, faces = self._net.detect(scaled)
        if faces is None:
            return np.zeros((0, 15), np.float32)
        faces = faces.copy()
        faces[:, :14] /= scale
        return faces


@lru_cache(maxsize=1)
def default_yunet() -> YuNetFaces:
    """The bundled model, built once and shared."""
    return YuNetFaces()
