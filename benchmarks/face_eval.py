"""YuNet faces: the plain call against YuNetFaces, on the dev set and the harder set, and timings.

    .venv/bin/python -m benchmarks.face_eval [--sweep] [--runs N]

Recall and precision at IoU >= 0.3 (benchmarks/hard_faces.py: how the harder set is made and
scored), for large faces (at least 1/21 of the photo's long side) and all faces; then the median
detect time of each profile on a 12 MP photo and a 640x480 frame (runs interleaved). --sweep adds
the table the threshold was picked from: every threshold on the fused score, from one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import cv2
import numpy as np
from skimage import data

from benchmarks.hard_faces import Sample, Tally, dev_set, hard_set, score_image
from benchmarks.photos import phone_photo
from lwface_desktop.core.detection import Detection
from lwface_desktop.core.yunet import NET_SCORE, default_yunet, model_path

PLAIN_SIDE, PLAIN_SCORE = 1280, 0.6


class PlainYuNet:
    """The plain call this project started from: one pass at <= 1280 px, score >= 0.6."""

    def __init__(self) -> None:
        self.net = cv2.FaceDetectorYN.create(str(model_path()), "", (320, 320), PLAIN_SCORE, 0.3, 5000)

    def detect(self, image: np.ndarray) -> list[Detection]:
        height, width = image.shape[:2]
        scale = min(1.0, PLAIN_SIDE / max(height, width))
        size = (round(width * scale), round(height * scale))
        bgr = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR if image.ndim == 2 else cv2.COLOR_RGB2BGR)
        self.net.setInputSize(size)
        _, faces = self.net.detect(cv2.resize(bgr, size, interpolation=cv2.INTER_AREA) if scale < 1 else bgr)
        faces = np.zeros((0, 15)) if faces is None else faces[np.argsort(-faces[:, 14])]
        return [Detection(x / scale, y / scale, (x + w) / scale, (y + h) / scale, float(s), "face")
                for x, y, w, h, s in faces[:, [0, 1, 2, 3, 14]]]


def detections(detector, samples: list[Sample]) -> list[list[Detection]]:
    return [detector.detect(sample.image) for sample in samples]


def tallies(found: list[list[Detection]], samples: list[Sample], threshold: float = 0.0) -> dict[str, Tally]:
    result = {"all": Tally(), "large": Tally()}
    for faces, sample in zip(found, samples, strict=True):
        boxes = np.array([d.box for d in faces if d.score >= threshold]).reshape(-1, 4)
        score_image(boxes, sample.truth, max(sample.image.shape[:2]), result)
    return result


def line(name: str, result: dict[str, Tally]) -> str:
    large, every = result["large"], result["all"]
    return (f"{name:<22} large: recall {large.recall:.3f} precision {large.precision:.3f} | "
            f"all: recall {every.recall:.3f} precision {every.precision:.3f} "
            f"({every.correct}/{every.truths} found, {every.found - every.correct} false)")


def sweep(sets: dict[str, list[Sample]]) -> None:
    """Every threshold from one run at the network's own floor (the fused score is filtered last)."""
    low = default_yunet().with_options(min_score=NET_SCORE)
    found = {name: detections(low, samples) for name, samples in sets.items()}
    print("\nthreshold sweep (fused score); dev: false boxes of 9 photos; hard: large / all recall@precision")
    for threshold in np.arange(0.40, 0.86, 0.05):
        dev = tallies(found["dev"], sets["dev"], threshold)["all"]
        hard = tallies(found["hard"], sets["hard"], threshold)
        print(f"  {threshold:.2f}  dev recall {dev.recall:.3f}, {dev.found - dev.correct} false | hard "
              f"large {hard['large'].recall:.3f}@{hard['large'].precision:.3f}, "
              f"all {hard['all'].recall:.3f}@{hard['all'].precision:.3f}")


def timings(runs: int) -> None:
    """Median ms of detect per profile and size; the configurations take turns run by run."""
    photo = phone_photo(data.astronaut())
    frame = cv2.resize(data.astronaut(), (640, 480), interpolation=cv2.INTER_AREA)
    detectors = {"plain": PlainYuNet(), "photo": default_yunet(), "live": default_yunet().with_options(live=True)}
    cases = [(name, label, image) for name in detectors
             for label, image in ((f"{photo.shape[1]}x{photo.shape[0]}", photo), ("640x480", frame))]
    times: dict[tuple[str, str], list[float]] = {(name, label): [] for name, label, _ in cases}
    for name, _, image in cases:  # warm-up: first calls at a new input size cost more
        detectors[name].detect(image)
    for _ in range(runs):
        for name, label, image in cases:
            start = time.perf_counter()
            detectors[name].detect(image)
            times[name, label].append(time.perf_counter() - start)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"\nmedian detect time ({runs} interleaved runs; load average after them {load} on {os.cpu_count()} CPUs)")
    for (name, label), values in times.items():
        print(f"  {name:<6} {label:<10} {1000 * statistics.median(values):7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sweep", action="store_true", help="also print the threshold sweep")
    parser.add_argument("--runs", type=int, default=15, help="timed runs per configuration")
    args = parser.parse_args()
    sets = {"dev": dev_set(), "hard": hard_set()}
    counts = {name: (len(samples), sum(len(s.truth) for s in samples)) for name, samples in sets.items()}
    print(f"dev set: {counts['dev'][0]} photos, {counts['dev'][1]} faces; "
          f"harder set: {counts['hard'][0]} images, {counts['hard'][1]} faces")
    ours = default_yunet()
    for name, samples in sets.items():
        print(f"\n{name} (IoU >= 0.3)")
        print(line("plain call (0.6)", tallies(detections(PlainYuNet(), samples), samples)))
        print(line(f"YuNetFaces ({ours.min_score})", tallies(detections(ours, samples), samples)))
        print(line("YuNetFaces live", tallies(detections(ours.with_options(live=True), samples), samples)))
    if args.sweep:
        sweep(sets)
    timings(args.runs)


if __name__ == "__main__":
    main()
