"""YOLOv5 post-processing stays bounded at any setting (the old NMS built an N x N matrix)."""

import textwrap

import torch

from lwface_desktop.core.yolo.processing import Letterbox, nms, postprocess
from tests.memory import run_python


def naive_nms(boxes: torch.Tensor, scores: torch.Tensor, threshold: float) -> list[int]:
    """Textbook greedy NMS, one pair at a time: what nms() must agree with."""
    order = scores.argsort(descending=True).tolist()
    kept: list[int] = []
    for i in order:
        a = boxes[i]
        ok = True
        for j in kept:
            b = boxes[j]
            iw = max(0.0, float(min(a[2], b[2]) - max(a[0], b[0])))
            ih = max(0.0, float(min(a[3], b[3]) - max(a[1], b[1])))
            inter = iw * ih
            union = float((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])) - inter
            if inter / max(union, 1e-9) > threshold:
                ok = False
                break
        if ok:
            kept.append(i)
    return kept


def random_boxes(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 600
    wh = torch.rand(n, 2, generator=g) * 120 + 1
    return torch.cat((xy, xy + wh), 1), torch.rand(n, generator=g)


def test_nms_agrees_with_the_textbook_algorithm():
    for seed, n in enumerate((0, 1, 2, 50, 400)):
        boxes, scores = random_boxes(n, seed)
        expected = naive_nms(boxes, scores, 0.45)
        assert nms(boxes, scores, 0.45).tolist() == expected
        assert nms(boxes, scores, 0.45, max_keep=5).tolist() == expected[:5]


def raw_output(n: int, classes: int = 80) -> torch.Tensor:
    """Network output rows (cx, cy, w, h, objectness, class probabilities) that all pass conf."""
    g = torch.Generator().manual_seed(0)
    rows = torch.rand(n, 5 + classes, generator=g)
    rows[:, :2] *= 640
    rows[:, 2:4] = rows[:, 2:4] * 100 + 2
    rows[:, 4] = rows[:, 4] * 0.9 + 0.1
    return rows


def test_postprocess_at_the_lowest_score_keeps_max_detections_and_drops_non_finite_rows():
    raw = raw_output(10_000)
    raw[:7, 0] = float("nan")
    raw[7:9, 2] = float("inf")
    found = postprocess(raw, Letterbox(1.0, 0, 0), (640, 640), conf=0.001, iou=0.45, max_detections=1000)
    assert len(found) == 1000
    assert all(0 <= v <= 640 for box, _, _ in found for v in box)
    scores = [score for _, score, _ in found]
    assert scores == sorted(scores, reverse=True)


def test_classes_never_suppress_each_other():
    box = torch.tensor([[100.0, 100.0, 50.0, 50.0]])
    raw = torch.zeros(2, 5 + 3)
    raw[:, :4] = box
    raw[:, 4] = 0.9
    raw[0, 5], raw[1, 7] = 0.9, 0.8  # the same box, classes 0 and 2
    found = postprocess(raw, Letterbox(1.0, 0, 0), (640, 640))
    assert sorted(label for _, _, label in found) == [0, 2]


def test_memory_stays_bounded_with_thirty_thousand_candidates():
    """In a fresh process: 30,000 candidates (the cap) at the lowest score, the peak above what
    the process held before the call measured."""
    run = run_python(textwrap.dedent("""
        from tests.core.test_processing import raw_output
        from lwface_desktop.core.yolo.processing import Letterbox, postprocess
        from tests.memory import start_measuring
        start_measuring()
        found = postprocess(raw_output(30_000), Letterbox(1.0, 0, 0), (640, 640), conf=0.001, max_detections=1000)
        print(len(found))
    """))
    assert run.returncode == 0, run.stderr
    assert int(run.stdout) == 1000
    print(f"grew {run.growth_mb:.0f} MB above {run.baseline_mb:.0f} MB")
    assert run.growth_mb < 200  # an N x N IoU matrix of 30,000 boxes would be 3,600 MB
