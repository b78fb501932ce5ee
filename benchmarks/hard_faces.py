"""The face dev set (../shared/faces) and a harder set made from it, with their truth boxes.

The harder set (hard_set) is made only from the 9 dev-set photos, with fixed seeds: the same
36 images and 430 faces on every run, in about a second. Each photo gives four images:

- "small": the photo shrunk so that its faces are 12-40 px, tilted half the time, pasted at a
  random place into a canvas of 1300-2000 px on its long side (the plain call shrinks that to
  1280 px, and its faces with it);
- "tiled": the photo and the next three, each shrunk the same way and tilted half the time, in
  a 2x2 grid whose canvas is 1300-2000 px too;
- "mosaic": the four photos in a 2x2 grid of 400-660 px (faces of 12-70 px), tilted half the time;
- "whole": the photo at 0.6-1x its size, always tilted, and made grey or darker.

The canvas behind is a scene with no face in it: another dev photo upside down, enlarged, its
faces smudged away. Tilts are 8-20 degrees either way, on a canvas grown to keep every corner.
Then each image is made darker half the time (gamma 1.6-2.5, gain 0.4-0.8) and grey half the
time (returned as an HxW array, as callers may pass one), blurred (sigma 0.6-1.6), given sensor
noise (sigma 5) and saved as JPEG at quality 45-85.

Truth boxes follow the same geometry. A tilted face keeps its size, so its box is the upright
square of the original side around the face's new centre: the rotated square's bounding box
would be up to 1.28 times as wide at 20 degrees, while dlib's tight squares are drawn on upright
faces and a detector's box for a tilted face stays about the face's size.

Scoring (score_image) follows COCO's convention for a size range: a face is "large" when its
side is at least 1/21 of the image's long side; in the large-face figures the other faces are
ignored (a detection that matches one counts neither way), and so is an unmatched detection
smaller than the large-face size. Detections are matched best first, one truth each, at IoU >= 0.3.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from lwface_desktop.core.images import read_jpeg

FACES = Path(__file__).resolve().parents[2] / "shared" / "faces"
SEED = 2024
MATCH_IOU = 0.3
LARGE = 1 / 21  # of the image's long side
BLUR = (0.6, 1.6)
GAMMA = (1.6, 2.5)
GAIN = (0.4, 0.8)
NOISE = 5
QUALITY = (45, 85)
CANVAS = (1300, 2000)  # long side of the small faces' canvas


@dataclass(frozen=True)
class Sample:
    name: str
    image: np.ndarray   # HxWx3 uint8 RGB, or HxW uint8 grey
    truth: np.ndarray   # N x 4 float boxes x1, y1, x2, y2 in the image's pixels


def dev_set(folder: Path = FACES) -> list[Sample]:
    """The 9 photos and their 43 face boxes as they are."""
    truth = json.loads((folder / "faces.json").read_text())["faces"]
    return [Sample(name, read_jpeg(folder / name), np.array(boxes, float).reshape(-1, 4))
            for name, boxes in sorted(truth.items())]


def hard_set(folder: Path = FACES, seed: int = SEED) -> list[Sample]:
    """36 harder images made from the dev set (see the module's notes); about 1 s."""
    photos = dev_set(folder)
    samples = []
    for i, photo in enumerate(photos):
        others = [photos[(i + k) % len(photos)] for k in (1, 2, 3)]
        for k, (kind, make) in enumerate((("small", _small), ("tiled", _tiled), ("mosaic", _mosaic),
                                          ("whole", _whole))):
            rng = np.random.default_rng([seed, i, k])
            image, truth = make(rng, photo, others)
            samples.append(Sample(f"{kind}-{Path(photo.name).stem}", _degrade(rng, image, kind), truth))
    return samples


def _small(rng, photo: Sample, others: list[Sample]) -> tuple[np.ndarray, np.ndarray]:
    part, truth, mask = _tilted(rng, *_faces_sized(rng, photo, 12, 40))
    height, width = part.shape[:2]
    grow = rng.uniform(*CANVAS) / max(width, height)
    canvas = _background(others[0], round(width * grow), round(height * grow))
    x, y = (int(rng.integers(0, canvas.shape[1 - k] - part.shape[1 - k] + 1)) for k in (0, 1))
    return canvas, _paste(canvas, part, mask, x, y, truth)


def _tiled(rng, photo: Sample, others: list[Sample]) -> tuple[np.ndarray, np.ndarray]:
    parts = [_tilted(rng, *_faces_sized(rng, part, 12, 40)) for part in [photo, *others]]
    cell_w, cell_h = (max(p[0].shape[1 - k] for p in parts) for k in (0, 1))
    grow = max(1.0, rng.uniform(*CANVAS) / (2 * max(cell_w, cell_h)))
    cell_w, cell_h = round(cell_w * grow), round(cell_h * grow)
    canvas = _background(others[-1], 2 * cell_w, 2 * cell_h)
    boxes = []
    for k, (part, truth, mask) in enumerate(parts):
        x = (k % 2) * cell_w + int(rng.integers(0, cell_w - part.shape[1] + 1))
        y = (k // 2) * cell_h + int(rng.integers(0, cell_h - part.shape[0] + 1))
        boxes.append(_paste(canvas, part, mask, x, y, truth))
    return canvas, np.concatenate(boxes)


def _mosaic(rng, photo: Sample, others: list[Sample]) -> tuple[np.ndarray, np.ndarray]:
    cell_w = int(rng.integers(200, 330))
    cell_h = cell_w * 3 // 4
    canvas = _background(others[-1], 2 * cell_w, 2 * cell_h)
    boxes = []
    for k, part in enumerate([photo, *others]):
        height, width = part.image.shape[:2]
        shrunk, truth = _resized(part, min(cell_w / width, cell_h / height))
        boxes.append(_paste(canvas, shrunk, None, (k % 2) * cell_w, (k // 2) * cell_h, truth))
    if rng.random() < 0.5:
        return _rotated(canvas, np.concatenate(boxes), _angle(rng))[:2]
    return canvas, np.concatenate(boxes)


def _whole(rng, photo: Sample, others: list[Sample]) -> tuple[np.ndarray, np.ndarray]:
    return _rotated(*_resized(photo, rng.uniform(0.6, 1.0)), _angle(rng))[:2]


def _faces_sized(rng, photo: Sample, smallest: float, largest: float) -> tuple[np.ndarray, np.ndarray]:
    """photo shrunk at random so that its faces are smallest to largest px (as near as they allow)."""
    sides = photo.truth[:, 2] - photo.truth[:, 0]
    low, high = smallest / sides.min(), largest / sides.max()
    return _resized(photo, rng.uniform(low, high) if low < high else (low + high) / 2)


def _resized(photo: Sample, scale: float) -> tuple[np.ndarray, np.ndarray]:
    height, width = photo.image.shape[:2]
    size = (round(width * scale), round(height * scale))
    factors = [size[0] / width, size[1] / height] * 2
    return cv2.resize(photo.image, size, interpolation=cv2.INTER_AREA), photo.truth * factors


def _background(photo: Sample, width: int, height: int) -> np.ndarray:
    """A textured scene with no face in it: a dev photo upside down, its faces blurred away."""
    image = photo.image.copy()
    for x1, y1, x2, y2 in photo.truth:
        pad = (x2 - x1) * 0.5
        box = np.s_[max(0, int(y1 - pad)):int(y2 + pad), max(0, int(x1 - pad)):int(x2 + pad)]
        image[box] = cv2.resize(cv2.resize(image[box], (3, 3), interpolation=cv2.INTER_AREA),
                                image[box].shape[1::-1], interpolation=cv2.INTER_CUBIC)
    return cv2.resize(image[::-1, ::-1], (width, height), interpolation=cv2.INTER_CUBIC)


def _paste(canvas: np.ndarray, part: np.ndarray, mask: np.ndarray | None, x: int, y: int,
           truth: np.ndarray) -> np.ndarray:
    """part into canvas at x, y (where mask is set); its truth boxes moved there."""
    region = canvas[y:y + part.shape[0], x:x + part.shape[1]]
    region[...] = part if mask is None else np.where(mask[..., None], part, region)
    return truth + [x, y, x, y]


def _angle(rng) -> float:
    return rng.uniform(8, 20) * rng.choice([-1, 1])


def _tilted(rng, image: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Half the time image turned by 8-20 degrees either way, with the mask of its pixels."""
    return _rotated(image, truth, _angle(rng)) if rng.random() < 0.5 else (image, truth, None)


def _rotated(image: np.ndarray, truth: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """image turned by degrees (counter-clockwise) on a canvas grown to hold it all (its edges
    repeated outward), the truth moved with it, and the mask of the pixels that came from image."""
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    size = (round(width * cos + height * sin), round(width * sin + height * cos))
    matrix[:, 2] += [(size[0] - width) / 2, (size[1] - height) / 2]
    turned = cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    mask = cv2.warpAffine(np.ones((height, width), np.uint8), matrix, size, flags=cv2.INTER_NEAREST) > 0
    centres = np.stack([(truth[:, 0] + truth[:, 2]) / 2, (truth[:, 1] + truth[:, 3]) / 2, np.ones(len(truth))])
    x, y = matrix @ centres
    half = (truth[:, 2] - truth[:, 0]) / 2
    return turned, np.stack([x - half, y - half, x + half, y + half], axis=1), mask


def _degrade(rng, image: np.ndarray, kind: str) -> np.ndarray:
    """Darker and grey half the time each ("whole": always one of them), then blur, noise, JPEG."""
    grey, dark = rng.random(2) < 0.5
    dark = dark or (kind == "whole" and not grey)
    if dark:
        gamma, gain = rng.uniform(*GAMMA), rng.uniform(*GAIN)
        image = cv2.LUT(image, (255 * gain * (np.arange(256) / 255) ** gamma).astype(np.uint8))
    image = cv2.GaussianBlur(image, (0, 0), rng.uniform(*BLUR))
    # Sensor noise: a 251 x 241 patch repeated (a whole canvas of normal draws takes seconds).
    patch = (rng.standard_normal((251, 241, 3), np.float32) * NOISE).astype(np.int16)
    reps = (-(-image.shape[0] // 251), -(-image.shape[1] // 241), 1)
    image = np.clip(image + np.tile(patch, reps)[:image.shape[0], :image.shape[1]], 0, 255).astype(np.uint8)
    if grey:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return _jpeg_round_trip(image, int(rng.integers(*QUALITY)))


def _jpeg_round_trip(image: np.ndarray, quality: int) -> np.ndarray:
    swap = cv2.COLOR_RGB2BGR if image.ndim == 3 else None
    encoded = cv2.imencode(".jpg", image if swap is None else cv2.cvtColor(image, swap),
                           [cv2.IMWRITE_JPEG_QUALITY, quality])[1]
    decoded = cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED)
    return decoded if swap is None else cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)


# Scoring


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in a (N x 4) with every box in b (M x 4)."""
    a, b = np.asarray(a, float).reshape(-1, 4)[:, None], np.asarray(b, float).reshape(-1, 4)[None]
    w = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    h = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = w * h
    areas = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1]) + (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    return inter / (areas - inter)


@dataclass
class Tally:
    truths: int = 0
    found: int = 0      # detections that count: matched ones plus false ones
    correct: int = 0

    @property
    def recall(self) -> float:
        return self.correct / max(1, self.truths)

    @property
    def precision(self) -> float:
        return self.correct / self.found if self.found else 1.0

    def __str__(self) -> str:
        return (f"recall {self.recall:.3f} ({self.correct}/{self.truths}), "
                f"precision {self.precision:.3f} ({self.found - self.correct} false)")


def score_image(boxes: np.ndarray, truth: np.ndarray, long_side: int, tallies: dict[str, Tally]) -> None:
    """Add one image's detections (N x 4, best first) to tallies["all"] and tallies["large"]."""
    boxes, truth = np.asarray(boxes, float).reshape(-1, 4), np.asarray(truth, float).reshape(-1, 4)
    overlaps = iou_matrix(boxes, truth)
    taken = np.zeros(len(truth), bool)
    matched = np.full(len(boxes), -1)
    for d in range(len(boxes)):
        candidates = np.where(~taken & (overlaps[d] >= MATCH_IOU), overlaps[d], -1.0)
        if len(truth) and candidates.max() >= 0:
            matched[d] = int(candidates.argmax())
            taken[matched[d]] = True
    minimum = LARGE * long_side
    large_truth = truth[:, 2] - truth[:, 0] >= minimum
    large_box = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) >= minimum
    tallies["all"].truths += len(truth)
    tallies["all"].found += len(boxes)
    tallies["all"].correct += int(taken.sum())
    tallies["large"].truths += int(large_truth.sum())
    hits = matched[matched >= 0]
    tallies["large"].correct += int(large_truth[hits].sum())
    tallies["large"].found += int(large_truth[hits].sum()) + int((large_box & (matched < 0)).sum())
