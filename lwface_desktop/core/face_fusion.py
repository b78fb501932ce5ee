"""Merging one photo's face detections from several passes (scales, mirror) into one list.

Plain NMS across passes keeps every pass's false faces: an upscaled pass finds faces in fabric
and foliage that the others never see, and on the dev set that alone dropped precision from
0.98 to 0.83. Here boxes that overlap are fused instead (score-weighted box fusion, as in
Solovyev et al.'s WBF): a face's box and landmarks are its detections' score-weighted mean, and
its score is the agreement of the passes that could have seen it, each counting its best score
and an absence as 0. A face that every such pass finds keeps its score; one that a single pass
of two finds keeps half. A pass "could see" a face when the face is at least SEEN_SIDE px in
that pass's input: a small face in a big photo is judged by the main pass alone, not halved by
the small check pass that cannot see it.

Rows are YuNet's: x, y, w, h, five landmark x/y pairs, score, in the photo's pixels.
"""

from __future__ import annotations

import numpy as np

FUSE_IOU = 0.5   # one face's boxes in two passes overlap more (measured: median 0.9, 95% above 0.7)
SEEN_SIDE = 12   # px in a pass's input: smaller faces are not expected from that pass


def fuse(passes: list[tuple[float, np.ndarray]]) -> np.ndarray:
    """passes: (scale of the pass's input, its N x 15 rows in photo pixels). Returns the fused
    rows with the agreement score in column 14."""
    rows = np.concatenate([found for _, found in passes]).reshape(-1, 15)
    origin = np.concatenate([np.full(len(found), k) for k, (_, found) in enumerate(passes)]).astype(int)
    clusters: list[list[int]] = []
    boxes = np.zeros((0, 4))  # each cluster's fused x1, y1, x2, y2 so far
    for i in np.argsort(-rows[:, 14], kind="stable"):
        overlaps = _iou(_corners(rows[i]), boxes)
        if len(overlaps) and overlaps.max() >= FUSE_IOU:
            k = int(overlaps.argmax())
            clusters[k].append(i)
            boxes[k] = _corners(_weighted(rows[clusters[k]]))
        else:
            clusters.append([i])
            boxes = np.vstack([boxes, _corners(rows[i])])
    scales = np.array([scale for scale, _ in passes])
    fused = np.zeros((len(clusters), 15), np.float32)
    for k, members in enumerate(clusters):
        fused[k, :14] = _weighted(rows[members])
        best = np.zeros(len(passes))
        np.maximum.at(best, origin[members], rows[members, 14])
        could_see = int((fused[k, 2] * scales >= SEEN_SIDE).sum())
        fused[k, 14] = best.sum() / max(could_see, int((best > 0).sum()))
    return fused


def _corners(row: np.ndarray) -> np.ndarray:
    return np.array([row[0], row[1], row[0] + row[2], row[1] + row[3]])


def _weighted(rows: np.ndarray) -> np.ndarray:
    """Score-weighted mean of rows' geometry (box and landmarks)."""
    weights = rows[:, 14:15]
    return (rows[:, :14] * weights).sum(axis=0) / weights.sum()


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    width = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    height = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = width * height
    area = (box[2] - box[0]) * (box[3] - box[1])
    return inter / (area + (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) - inter)
