"""Faces with scikit-image's MB-LBP frontal-face cascade, made robust for real photos.

The gallery example scans one 512 px photo for faces of 60-123 px. Real photos come in
any size, so this detector scans a copy scaled to a fixed working size (the same faces
are found in a 12-megapixel photo and in its thumbnail, at a fixed cost), picks the
window sizes relative to that copy, groups the raw windows the cascade fires for one face
into one box, drops weak or skin-less groups, and maps boxes back to original pixels.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import cv2
import numpy as np

from lwface_desktop.core.detection import Detection, Detector

# The cascade tries every position for windows under 1.5x its own 24 px, and those
# scales take most of its time. Starting at 42 px on an 896 px copy finds faces down to
# 1/21 of the photo's long side, like 24 px on a 512 px copy, at the same cost, but with
# more windows per face, which tells faces from look-alikes better (README, "Faces").
WORK_SIDE = 896          # long side, in pixels, of the copy the cascade scans
MIN_FACE = 42            # smallest window, in pixels of that copy
MAX_FACE_FRACTION = 0.9  # of the copy's short side
SCALE_FACTOR = 1.2       # window growth per scale; 1.1 finds little more at twice the cost
MIN_HITS = 5             # raw windows that must agree before a group counts as a face
SKIN_MIN = 0.3           # share of skin-coloured pixels in the middle of a colour face box
SAME_FACE_SHIFT = 0.3    # centres closer than this share of the window size: one face
SAME_FACE_SIZE_RATIO = 1.6
NESTED_OVERLAP = 0.5     # intersection / smaller area above which two groups are one face


def _overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over the smaller area, for every box in a against every box in b."""
    ix = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    iy = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return ix * iy / np.minimum(area_a[:, None], area_b[None, :])


def _same_face(windows: np.ndarray) -> np.ndarray:
    """N x N: windows of similar size whose centres are close (OpenCV-style similarity).

    Unlike plain overlap, this never links a small window to a big one around it, so
    a stray big window cannot chain two neighbouring faces into one.
    """
    size = windows[:, 2] - windows[:, 0]
    centre = (windows[:, :2] + windows[:, 2:]) / 2
    smaller = np.minimum(size[:, None], size[None, :])
    near = (np.abs(centre[:, None, :] - centre[None, :, :]) <= SAME_FACE_SHIFT * smaller[..., None]).all(axis=2)
    return near & (np.maximum(size[:, None], size[None, :]) <= SAME_FACE_SIZE_RATIO * smaller)


def group_windows(windows: np.ndarray) -> list[tuple[np.ndarray, int]]:
    """Group the raw windows (N x 4, x1 y1 x2 y2) fired for one face: (mean box, count)."""
    n = len(windows)
    if n == 0:
        return []
    linked = _same_face(windows)
    group = np.arange(n)
    # Connected components by repeated min-label propagation; n is at most a few hundred.
    while True:
        merged = np.where(linked, group[None, :], n).min(axis=1)
        if np.array_equal(merged, group):
            break
        group = merged
    return [(windows[group == g].mean(axis=0), int((group == g).sum())) for g in np.unique(group)]


def skin_fraction(rgb: np.ndarray, box: np.ndarray) -> float:
    """Share of skin-coloured pixels (Chai & Ngan's Cr/Cb ranges) in the middle of box."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    middle = rgb[int(y1 + h / 4):int(y2 - h / 4), int(x1 + w / 4):int(x2 - w / 4)]
    if middle.size == 0:
        return 0.0
    ycrcb = cv2.cvtColor(np.ascontiguousarray(middle), cv2.COLOR_RGB2YCrCb)
    cr, cb = ycrcb[..., 1], ycrcb[..., 2]
    return float(((cr >= 133) & (cr <= 173) & (cb >= 77) & (cb <= 127)).mean())


def _is_colour(rgb: np.ndarray) -> bool:
    spread = rgb.max(axis=2).astype(np.int16) - rgb.min(axis=2)
    return float(spread.mean()) > 6.0


class FaceCascade(Detector):
    """Frontal faces in photos. Safe to share between threads; build once, reuse."""

    label, kind = "face", "cascade"

    def __init__(self, work_side: int = WORK_SIDE, min_hits: int = MIN_HITS):
        from skimage.data import lbp_frontal_face_cascade_filename
        from skimage.feature import Cascade

        self.work_side = work_side
        self.decode_side = work_side  # it scans a copy this size: a reduced decode is as good
        self.min_hits = min_hits
        self._cascade = Cascade(lbp_frontal_face_cascade_filename())
        self._lock = threading.Lock()  # the Cython cascade is not documented as reentrant

    def lowest_score(self) -> float:
        return 0.5  # min_hits windows at least, scored hits / (hits + min_hits)

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Faces in image (HxWx3 uint8 RGB, or HxW uint8 grey), best first.

        Boxes are in pixels of image; score grows with the number of cascade
        windows that agree on the face (MIN_HITS of them give 0.5).
        """
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        height, width = image.shape[:2]
        scale = self.work_side / max(height, width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        work = cv2.resize(image, size, interpolation=interpolation)
        grey = cv2.cvtColor(work, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0

        largest = int(min(size) * MAX_FACE_FRACTION)
        if largest < MIN_FACE:
            return []
        with self._lock:
            # A merge threshold above 1 makes the cascade return every raw window:
            # the grouping below is ours, so that it can count and filter them.
            raw = self._cascade.detect_multi_scale(
                img=grey, scale_factor=SCALE_FACTOR, step_ratio=1,
                min_size=(MIN_FACE, MIN_FACE), max_size=(largest, largest),
                min_neighbor_number=1, intersection_score_threshold=2.0)
        windows = np.array([[d["c"], d["r"], d["c"] + d["width"], d["r"] + d["height"]] for d in raw],
                           dtype=np.float64).reshape(-1, 4)

        colour = _is_colour(work)
        faces = [(box, hits) for box, hits in group_windows(windows)
                 if hits >= self.min_hits and (not colour or skin_fraction(work, box) >= SKIN_MIN)]
        faces = _drop_nested(faces)
        boxes = [np.clip(box / scale, 0, [width, height, width, height]).tolist() for box, _ in faces]
        return [Detection(x1, y1, x2, y2, hits / (hits + self.min_hits), self.label)
                for (x1, y1, x2, y2), (_, hits) in zip(boxes, faces, strict=True)]


def _drop_nested(faces: list[tuple[np.ndarray, int]]) -> list[tuple[np.ndarray, int]]:
    """Of groups that still overlap (a face and its forehead), keep the best supported."""
    faces = sorted(faces, key=lambda f: -f[1])
    kept: list[tuple[np.ndarray, int]] = []
    for box, hits in faces:
        if not kept or _overlap(box[None], np.array([k[0] for k in kept])).max() < NESTED_OVERLAP:
            kept.append((box, hits))
    return kept


@lru_cache(maxsize=1)
def default_face_cascade() -> FaceCascade:
    """The shared detector: loading the cascade takes ~0.3 s, so do it once."""
    return FaceCascade()
