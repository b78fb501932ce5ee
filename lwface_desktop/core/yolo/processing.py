"""Pre- and post-processing as the reference YOLOv5 inference does them (DESIGN.md)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

PAD_GREY = 114


@dataclass(frozen=True)
class Letterbox:
    """How an image was fitted into the network input: scale, then padding (left, top)."""

    scale: float
    left: int
    top: int


def letterbox(image: np.ndarray, size: int, stride: int = 32) -> tuple[np.ndarray, Letterbox]:
    """Scale the long side to size (aspect kept, INTER_LINEAR), then pad each side with grey
    to the next multiple of stride, the padding split evenly (the odd pixel right/bottom)."""
    height, width = image.shape[:2]
    scale = min(size / height, size / width)
    # At least 1 pixel: a 1 x 5000 photo would otherwise round to a 0-pixel side.
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    if (new_w, new_h) != (width, height):
        image = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    pad_w, pad_h = -new_w % stride, -new_h % stride
    left, top = pad_w // 2, pad_h // 2
    if pad_w or pad_h:
        image = cv2.copyMakeBorder(image, top, pad_h - top, left, pad_w - left, cv2.BORDER_CONSTANT,
                                   value=(PAD_GREY, PAD_GREY, PAD_GREY))
    return image, Letterbox(scale, left, top)


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """HxWx3 uint8 RGB -> (1, 3, H, W) float32 in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).unsqueeze(0).float().div_(255)


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float,
        max_keep: int | None = None) -> torch.Tensor:
    """Indices of the boxes kept by greedy non-maximum suppression, best first.

    Each step compares the best remaining box with the rest and drops those overlapping it,
    so memory is O(N) and time O(N x kept), never an N x N matrix (at --conf 0.001 N reaches
    30,000: 3.6 GB as a matrix). Greedy order is score order, so stopping at max_keep
    changes nothing in the first max_keep.
    """
    order = scores.argsort(descending=True).numpy()
    box = boxes.numpy()[order].astype(np.float64)
    x1, y1, x2, y2 = box.T
    areas = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    remaining = np.arange(len(order))
    kept: list[int] = []
    while remaining.size and (max_keep is None or len(kept) < max_keep):
        best, rest = remaining[0], remaining[1:]
        kept.append(best)
        inter = (np.clip(np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]), 0, None)
                 * np.clip(np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]), 0, None))
        iou = inter / np.maximum(areas[best] + areas[rest] - inter, 1e-9)
        remaining = rest[iou <= iou_threshold]
    return torch.from_numpy(order[np.asarray(kept, dtype=np.int64)])


def postprocess(raw: torch.Tensor, fit: Letterbox, image_size: tuple[int, int], conf: float = 0.25,
                iou: float = 0.45, max_detections: int = 300, classes: set[int] | None = None,
                max_candidates: int = 30000) -> list[tuple[list[float], float, int]]:
    """Network output (N, 5 + nc) for one image -> [(box x1 y1 x2 y2 in image pixels, score, class)].

    score = objectness x best class probability; kept when above conf; class-aware NMS;
    boxes un-letterboxed and clipped to image_size (width, height).
    """
    raw = raw[raw[:, 4] > conf]  # objectness bounds the score, so this drops nothing needed
    raw = raw[torch.isfinite(raw).all(1)]
    scores, labels = (raw[:, 5:] * raw[:, 4:5]).max(1)
    keep = scores > conf
    if classes is not None:
        keep &= torch.isin(labels, torch.tensor(sorted(classes), dtype=labels.dtype))
    raw, scores, labels = raw[keep], scores[keep], labels[keep]
    if len(scores) > max_candidates:
        top = scores.topk(max_candidates).indices
        raw, scores, labels = raw[top], scores[top], labels[top]
    cx, cy, w, h = raw[:, :4].unbind(1)
    boxes = torch.stack((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), 1)
    # Shifting each class's boxes beyond every box makes one NMS pass class-aware.
    offset = float(boxes.abs().max()) * 2 + 1 if len(boxes) else 0.0
    kept = nms(boxes + labels[:, None].float() * offset, scores, iou, max_detections)
    boxes = boxes[kept]
    boxes[:, [0, 2]] = ((boxes[:, [0, 2]] - fit.left) / fit.scale).clamp(0, image_size[0])
    boxes[:, [1, 3]] = ((boxes[:, [1, 3]] - fit.top) / fit.scale).clamp(0, image_size[1])
    return [(box, score, label) for box, score, label in
            zip(boxes.tolist(), scores[kept].tolist(), labels[kept].tolist(), strict=True)]
