"""Faces with OpenCV's YuNet (cv2.FaceDetectorYN; the MIT-licensed 232 KB model is bundled).

On real photos the classic cascade finds about one face in five; YuNet finds most, profiles,
caps and grey photos included, but loses small faces. So a photo is not one plain call:

- Passes are chosen per photo within a pixel budget (PIXEL_BUDGET network input pixels, all
  passes together, which keeps a 12 MP photo under 0.3 s). A big photo is scanned once at the
  largest scale the budget allows (1700 px on a 12 MP photo's long side, against the plain
  call's 1280), plus a mirrored pass at a third of that scale which checks its larger faces.
  A small photo is scanned at its own size and again mirrored; a thumbnail is first brought up
  to MIN_SIDE. (Upscaling the 500 px dev photos to 640 px or 2x finds their unlabelled 6-14 px
  background faces and cut-out figures: more false boxes at every threshold that kept the gain;
  on the dev photos shrunk to 240-300 px, 400 px gives one or two false boxes where native
  size gives three.)
- face_fusion.fuse merges the passes: one face's boxes are averaged by score, and its score
  is the passes' agreement (the mean over the passes that could see it), so a face that one
  pass alone imagines drops below the threshold.
- MIN_SCORE and the parameters were picked by measurement (`python -m benchmarks.face_eval
  --sweep`, on the dev set and the harder set made from it): 0.55 is the lowest threshold that
  keeps the dev set at 43 of 43 faces with one false box, as the plain call at 0.6.

The live profile (live=True) is one pass, no mirror and no fusion: a 640x480 frame at
LIVE_SIDE px (about half the time of the plain call's pass), a bigger frame at half its size
up to LIVE_MAX_SIDE (so a 1080p webcam's 30 px faces are still 15 px to the network).
"""

from __future__ import annotations

import copy
import hashlib
import math
import threading
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

from lwface_desktop.core.detection import Detection, Detector
from lwface_desktop.core.errors import ModelError
from lwface_desktop.core.face_fusion import fuse
from lwface_desktop.core.resources import resource_path

# The model loader's notes ("Targets are not supported by the new graph engine") are not the user's.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)

MODEL_NAME = "face_detection_yunet_2023mar.onnx"
MODEL_SHA256 = "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4"
MIN_SCORE = 0.55      # on the fused score; see benchmarks/face_eval.py --sweep
NET_SCORE = 0.3       # what a pass keeps for the fusion to weigh
NMS_IOU = 0.3         # YuNet's own suppression of overlapping boxes within a pass
PIXEL_BUDGET = 2_400_000  # network input pixels per photo, all passes together
CHECK_SCALE = 1 / 3   # a big photo's mirrored check pass, relative to its main pass
MIN_SIDE = 400        # a smaller photo (a thumbnail) is upscaled to this long side
LIVE_SIDE = 480       # the live profile's one pass: a 640x480 frame at 480x360,
LIVE_MAX_SIDE = 960   # a bigger frame at half size up to this (at 480, a 1080p frame's 30 px faces were lost)
WORK_SIDE = math.ceil(math.sqrt(PIXEL_BUDGET * 4 / 3))  # a 4:3 photo's long side at the budget
# The eyes and mouth corners swap sides in a mirrored pass.
MIRRORED_LANDMARKS = [2, 3, 0, 1, 4, 5, 8, 9, 6, 7]


class Pass(NamedTuple):
    scale: float
    mirrored: bool


def photo_passes(width: int, height: int) -> list[Pass]:
    """The passes for a photo of this size, main pass first, within PIXEL_BUDGET."""
    pixels = width * height
    if 2 * pixels > PIXEL_BUDGET:  # a big photo: as large as the budget allows, and a small check
        main = min(1.0, math.sqrt(PIXEL_BUDGET / pixels / (1 + CHECK_SCALE ** 2)))
        return [Pass(main, False), Pass(main * CHECK_SCALE, True)]
    # A small one: at its own size (a thumbnail brought up to MIN_SIDE), and mirrored.
    main = min(max(1.0, MIN_SIDE / max(width, height)), math.sqrt(PIXEL_BUDGET / pixels / 2))
    return [Pass(main, False), Pass(main, True)]


def model_path() -> Path:
    return resource_path("models", MODEL_NAME)


class YuNetFaces(Detector):
    """Faces and their 5 landmarks (eyes, nose tip, mouth corners). Thread-safe.

    live=False (photos): the passes of photo_passes(), fused; live=True (video frames): one
    pass at LIVE_SIDE px. with_options() makes a copy that shares the loaded network.
    """

    label, kind = "face", "yunet"
    decode_side = WORK_SIDE  # it never looks at more: a reduced JPEG decode is as good

    def __init__(self, model: str | Path | None = None, min_score: float = MIN_SCORE, live: bool = False):
        path = Path(model) if model else model_path()
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            raise ModelError(f"The face model {path} is missing; reinstall lwface-desktop "
                             "(the classic cascade still works).") from None
        if digest != MODEL_SHA256:
            raise ModelError(f"The face model {path} is damaged (its SHA-256 is not YuNet's); reinstall "
                             "lwface-desktop (the classic cascade still works).")
        self._net = cv2.FaceDetectorYN.create(str(path), "", (320, 320), NET_SCORE, NMS_IOU, 5000)
        self._lock = threading.Lock()  # one network, one input size at a time; copies share both
        self.min_score = min_score
        self.live = live

    def with_options(self, min_score: float | None = None, live: bool | None = None) -> YuNetFaces:
        """A copy with these settings that shares this one's loaded network (no reload)."""
        other = copy.copy(self)
        if min_score is not None:
            other.min_score = min_score
        if live is not None:
            other.live = live
        return other

    def lowest_score(self) -> float:
        return self.min_score

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Faces in image (HxWx3 uint8 RGB, or HxW grey), best first; boxes and landmarks in its pixels."""
        image = np.ascontiguousarray(image)  # OpenCV wants contiguous rows (a crop is a strided view)
        height, width = image.shape[:2]
        if self.live:
            side = min(LIVE_MAX_SIDE, max(LIVE_SIDE, max(height, width) / 2))
            passes = [Pass(min(1.0, side / max(height, width)), False)]
        else:
            passes = photo_passes(width, height)
        scaled: dict[float, np.ndarray] = {}  # one resized BGR copy per scale, mirrored or not
        found = []
        for scale, mirrored in passes:
            if scale not in scaled:
                size = (max(1, round(width * scale)), max(1, round(height * scale)))
                scaled[scale] = cv2.cvtColor(_resized(image, size),
                                             cv2.COLOR_GRAY2BGR if image.ndim == 2 else cv2.COLOR_RGB2BGR)
            found.append((scale, self._pass(scaled[scale], mirrored, width, height)))
        rows = found[0][1] if self.live else fuse(found)
        rows = rows[rows[:, 14] >= self.min_score]
        rows = rows[np.argsort(-rows[:, 14], kind="stable")]
        return [Detection(float(x), float(y), float(x + w), float(y + h), float(row[14]), self.label,
                          tuple((float(row[i]), float(row[i + 1])) for i in range(4, 14, 2)))
                for row in rows for x, y, w, h in [row[:4]]]

    def _pass(self, bgr: np.ndarray, mirrored: bool, width: int, height: int) -> np.ndarray:
        """YuNet's N x 15 rows (x, y, w, h, 5 landmark x/y pairs, score) on bgr, in the pixels of
        the width x height image it was scaled from."""
        size = (bgr.shape[1], bgr.shape[0])
        if mirrored:
            bgr = cv2.flip(bgr, 1)
        with self._lock:
            self._net.setScoreThreshold(min(NET_SCORE, self.min_score))
            self._net.setInputSize(size)
            _, faces = self._net.detect(bgr)
        if faces is None:
            return np.zeros((0, 15), np.float32)
        faces = faces.copy()
        if mirrored:
            faces[:, 0] = size[0] - faces[:, 0] - faces[:, 2]
            faces[:, 4:14:2] = size[0] - faces[:, 4:14:2]
            faces[:, 4:14] = faces[:, 4:14][:, MIRRORED_LANDMARKS]
        faces[:, 0:14:2] *= width / size[0]
        faces[:, 1:14:2] *= height / size[1]
        return faces


def _resized(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """image at size: shrunk by a whole factor first (INTER_AREA is fast there), then linearly."""
    height, width = image.shape[:2]
    if size == (width, height):
        return image
    whole = min(width // size[0], height // size[1])
    if whole >= 2:
        image = cv2.resize(image, (width // whole, height // whole), interpolation=cv2.INTER_AREA)
    return cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)


@lru_cache(maxsize=1)
def default_yunet() -> YuNetFaces:
    """The bundled model, built once and shared."""
    return YuNetFaces()
