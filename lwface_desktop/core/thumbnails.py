"""Small pictures of what was found, for the results panel: each box cut from the picture as
shown (the view copy, drawn), so that a hidden face stays hidden in its thumbnail too, and the
box's own outline frames it in its class colour. Cut from the view-size copy in the photo job:
a few dozen small resizes, never a full-resolution decode.
"""

from __future__ import annotations

import cv2
import numpy as np

from lwface_desktop.core.annotate import line_width
from lwface_desktop.core.detection import Detection

SIDE = 64  # pixels: a thumbnail's longer side


def thumbnails(shown: np.ndarray, detections: list[Detection], scale: float, side: int = SIDE) -> list[np.ndarray]:
    """One HxWx3 uint8 RGB picture per detection, its longer side `side` at most (smaller
    boxes are not enlarged): the box, outline included, cut from shown (HxWx3 RGB, the
    picture as drawn), whose pixels are scale times the detections' (full-resolution) ones."""
    height, width = shown.shape[:2]
    outline = line_width(shown.shape) / 2  # the drawn line reaches this far outside the box
    out = []
    for det in detections:
        x1, y1, x2, y2 = (v * scale for v in det.box)
        # Within the picture, and at least a pixel: a box on (or past) the edge gets the edge.
        left, top = _within(x1 - outline, 0, width - 1), _within(y1 - outline, 0, height - 1)
        right, bottom = _within(x2 + outline, left + 1, width), _within(y2 + outline, top + 1, height)
        crop = shown[top:bottom, left:right]
        shrink = min(1.0, side / max(crop.shape[:2]))
        if shrink < 1.0:
            size = (max(1, round(crop.shape[1] * shrink)), max(1, round(crop.shape[0] * shrink)))
            crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
        out.append(np.ascontiguousarray(crop))
    return out


def _within(v: float, low: int, high: int) -> int:
    return min(max(low, round(v)), high)
