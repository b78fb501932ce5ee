"""Faces + people: YuNet and YOLOv5 (person class only) on the same frame, side by side.

The face pass runs on its own thread while YOLOv5 runs on the caller's: OpenCV's network and
torch both release the GIL, and YOLOv5 gets one torch thread less than alone (core/cpu_budget.py;
at least one), so on a 2-core machine the faces take the other core.
Measured with benchmarks/live_modes.py (`video` on a 640x480 clip, YOLOv5n at 640, medians of
5 interleaved rounds, three runs at load 1.5-3): faces + people took 1.00-1.04 times the time of
objects alone; the two detectors alone, without the video's decoding and encoding, 1.09 times,
and 1.24 one after the other. On a busy machine (load 4-5) there is no free core to hide the
faces in: 1.3 times. (benchmarks/threads.py measures the split under taskset.)
"""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from lwface_desktop.core.detection import Detection, Detector


class FacesAndPeople(Detector):
    """faces.detect() and objects.detect() merged: faces first, then people. Thread-safe as
    its two detectors are; with_options() copies share both and the face thread."""

    label, kind = "detection", "faces+people"
    decode_side = None  # YOLOv5's results hold only on the full decode

    def __init__(self, faces: Detector, objects):
        self.faces = faces
        self.objects = objects  # a YoloDetector limited to the person class
        self._face_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="faces")

    def detect(self, image: np.ndarray) -> list[Detection]:
        faces = self._face_thread.submit(self.faces.detect, image)
        people = self.objects.detect(image)
        return faces.result() + people

    def with_options(self, **options) -> FacesAndPeople:
        """A copy whose YOLOv5 part has these options (YoloDetector.with_options)."""
        other = copy.copy(self)
        other.objects = self.objects.with_options(**options)
        return other

    # What the video summary and the live tab's status show: YOLOv5's settings.
    @property
    def img_size(self) -> int:
        return self.objects.img_size

    @property
    def conf(self) -> float:
        return self.objects.conf

    @property
    def classes(self):
        return self.objects.classes

    @property
    def precision(self) -> str:
        return self.objects.precision
