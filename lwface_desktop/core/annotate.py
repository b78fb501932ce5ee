"""Drawing detections on photos: a box per detection in its class's colour (palette.py: faces
red, like scikit-image's face-detection example), with "label score" on a tag of that colour."""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

from lwface_desktop.core.detection import Detection
from lwface_desktop.core.palette import Colour, colour_of, text_colour_on


def annotate(image: np.ndarray, detections: Iterable[Detection], labels: bool = True,
             colour: Colour | None = None, landmarks: bool = False, in_place: bool = False) -> np.ndarray:
    """A copy of image (HxWx3 uint8 RGB) with a box, and optionally "label score", per detection;
    with landmarks, a small dot on each of a detection's landmarks (YuNet's eyes, nose, mouth).
    Each detection is drawn in its class's colour (palette.colour_of), or all in colour if given.

    Line width and text size follow the image size, so boxes read the same on a
    thumbnail and on a 12-megapixel photo. The input array is never modified, unless
    in_place: then image (a contiguous copy the caller owns) is drawn on and returned.
    """
    out = image if in_place else np.ascontiguousarray(image).copy()
    thickness = line_width(out.shape)
    font_scale = max(0.4, min(out.shape[:2]) / 900)
    for det in detections:
        drawn = colour or colour_of(det.label)
        x1, y1, x2, y2 = (round(v) for v in det.box)
        cv2.rectangle(out, (x1, y1), (x2 - 1, y2 - 1), drawn, thickness, cv2.LINE_AA)
        if landmarks and det.landmarks:
            radius = max(1, thickness // 2 + 1)
            for x, y in det.landmarks:
                cv2.circle(out, (round(x), round(y)), radius, drawn, cv2.FILLED, cv2.LINE_AA)
        if labels:
            _draw_label(out, f"{det.label} {det.score:.2f}", x1, y1, font_scale, thickness, drawn)
    return out


def line_width(shape: tuple[int, ...]) -> int:
    """The width in pixels of the boxes annotate() draws on an image of this shape (H, W[, C])."""
    return max(2, round(min(shape[:2]) / 250))


def _draw_label(out: np.ndarray, text: str, x: int, y: int, font_scale: float,
                thickness: int, colour: Colour) -> None:
    font = cv2.FONT_HERSHEY_SIMPLEX
    text_thickness = max(1, thickness // 2)
    (tw, th), baseline = cv2.getTextSize(text, font, font_scale, text_thickness)
    pad = max(2, thickness)
    # Above the box when there is room, else just inside its top edge.
    top = y - th - baseline - 2 * pad if y - th - baseline - 2 * pad >= 0 else y
    cv2.rectangle(out, (x, top), (x + tw + 2 * pad, top + th + baseline + 2 * pad), colour, cv2.FILLED)
    cv2.putText(out, text, (x + pad, top + pad + th), font, font_scale, text_colour_on(colour), text_thickness,
                cv2.LINE_AA)
