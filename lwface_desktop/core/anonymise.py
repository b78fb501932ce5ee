"""Hiding faces: blur, pixelate or a solid box over each face, before a photo or frame is shared.

The mask is deliberately larger than the detector's box: YuNet's box runs from brow to chin,
while hair, ears and jaw identify a person too. Blur and pixelate cover an ellipse through
the corners of the box grown by PAD on each side (so the whole box is always inside it); the
solid box covers that grown rectangle. Both work from a copy shrunk to a few cells across the
face, so nothing of the face's detail survives and a 1000-pixel face costs no more than a
small one. In video a detector can miss a face for a frame or two: FaceTrack keeps each
face's last box for a few frames so it never flashes un-hidden.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import cv2
import numpy as np

from lwface_desktop.core.detection import Detection

MODES = ("off", "blur", "pixelate", "box")
MODE_NAMES = {"off": "Off", "blur": "Blur", "pixelate": "Pixelate", "box": "Solid box"}
HIDDEN_WORDS = {"blur": "blurred", "pixelate": "pixelated", "box": "covered"}  # "faces blurred"
PAD = 0.1              # the box grows by this fraction of its size on each side
BLUR_CELLS = 6         # blur: the face is rebuilt from this many cells across, then smoothed
PIXEL_CELLS = 9        # pixelate: blocks across the face
BOX_COLOUR = (0, 0, 0)
KEEP_FRAMES = 8        # video: a face missed for up to this many frames keeps its last box
TRACK_IOU = 0.3        # a new box at least this close to a kept one is the same face


def anonymise(image: np.ndarray, detections: Iterable[Detection], mode: str) -> np.ndarray:
    """image (HxWx3 uint8) with every "face" detection hidden by mode; other labels are left
    alone. A new array unless there is nothing to do (mode "off" or no face): then image itself."""
    if mode not in MODES:
        raise ValueError(f"anonymise mode must be one of {', '.join(MODES)}, not {mode!r}")
    faces = hidden_faces(detections)
    if mode == "off" or not faces:
        return image
    out = np.ascontiguousarray(image).copy()
    for face in faces:
        cx, cy, half_w, half_h = _grown_box(face)
        if mode == "box":
            rect = _pixels(out, cx - half_w, cy - half_h, cx + half_w, cy + half_h)
            if rect is not None:
                out[rect[1]:rect[3], rect[0]:rect[2]] = BOX_COLOUR
            continue
        # The ellipse through the grown box's corners: semi-axes √2 times its half-sizes.
        half_w, half_h = half_w * math.sqrt(2), half_h * math.sqrt(2)
        rect = _pixels(out, cx - half_w, cy - half_h, cx + half_w, cy + half_h)
        if rect is None:
            continue
        left, top, right, bottom = rect
        region = out[top:bottom, left:right]
        ys = (np.arange(top, bottom, dtype=np.float32) + 0.5 - cy) / half_h
        xs = (np.arange(left, right, dtype=np.float32) + 0.5 - cx) / half_w
        inside = ys[:, None] ** 2 + xs[None, :] ** 2 <= 1.0
        region[inside] = _coarse(region, face, mode)[inside]
    return out


def is_hidden(detection: Detection) -> bool:
    """Whether anonymise() hides this detection: faces, whichever detector found them."""
    return detection.label == "face"


def hidden_faces(detections: Iterable[Detection]) -> list[Detection]:
    """The detections anonymise() hides."""
    return [d for d in detections if is_hidden(d)]


def _grown_box(face: Detection) -> tuple[float, float, float, float]:
    """Centre and half-sizes of the face's box grown by PAD on each side."""
    grow = 0.5 + PAD
    return ((face.x1 + face.x2) / 2, (face.y1 + face.y2) / 2,
            max(face.x2 - face.x1, 1.0) * grow, max(face.y2 - face.y1, 1.0) * grow)


def _pixels(image: np.ndarray, x1: float, y1: float, x2: float, y2: float) -> tuple[int, int, int, int] | None:
    """The whole pixels touched by the box, clipped to image; None if it lies outside."""
    height, width = image.shape[:2]
    left, top = max(0, math.floor(x1)), max(0, math.floor(y1))
    right, bottom = min(width, math.ceil(x2)), min(height, math.ceil(y2))
    return (left, top, right, bottom) if right > left and bottom > top else None


def _coarse(region: np.ndarray, face: Detection, mode: str) -> np.ndarray:
    """region rebuilt from a few cells per face width: blocks (pixelate) or a smooth blur."""
    height, width = region.shape[:2]
    cells = PIXEL_CELLS if mode == "pixelate" else BLUR_CELLS
    cell = max(1.0, (face.x2 - face.x1) / cells)  # pixels per cell, from the face, not the region
    small = (max(1, round(width / cell)), max(1, round(height / cell)))
    shrunk = cv2.resize(region, small, interpolation=cv2.INTER_AREA)
    if mode == "pixelate":
        return cv2.resize(shrunk, (width, height), interpolation=cv2.INTER_NEAREST)
    # A blur from so few cells, smoothed once more at that size, leaves no feature to recognise.
    shrunk = cv2.GaussianBlur(shrunk, (3, 3), 0)
    return cv2.resize(shrunk, (width, height), interpolation=cv2.INTER_LINEAR)


class FaceTrack:
    """A video's faces over its last frames: update() with each frame's faces returns them plus
    the last box of every face missed for at most keep_frames frames (a detector's miss for a
    frame or two must not show the face un-hidden)."""

    def __init__(self, keep_frames: int = KEEP_FRAMES):
        self.keep_frames = keep_frames
        self._kept: list[tuple[Detection, int]] = []  # (last box, frames since it was seen)

    def update(self, detections: Iterable[Detection]) -> list[Detection]:
        """This frame's faces, then the kept boxes of faces it missed (the JSON keeps only the former)."""
        faces = hidden_faces(detections)
        still_missing = [(box, age + 1) for box, age in self._kept
                         if age + 1 <= self.keep_frames and not any(box.iou(f) >= TRACK_IOU for f in faces)]
        self._kept = [(f, 0) for f in faces] + still_missing
        return faces + [box for box, _ in still_missing]

    def missed(self, detections: Iterable[Detection]) -> list[Detection]:
        """update(), but only the kept boxes: the faces to hide that this frame's detections missed."""
        return self.update(detections)[len(hidden_faces(detections)):]


