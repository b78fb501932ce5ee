"""The app's detectors, built on first use and shared by every job that needs them."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from lwface_desktop.core.detection import Detector
from lwface_desktop.core.errors import ModelError

if TYPE_CHECKING:  # imported when first used: torch loads only for YOLOv5
    from lwface_desktop.core.yolo.detector import YoloDetector

KINDS = {"cascade": "Faces (cascade, classic)", "yunet": "Faces (YuNet)", "yolov5": "Objects (YOLOv5)"}
FACE_KINDS = ("cascade", "yunet")
# What the live tab and `video` can find: YuNet's light live profile, YOLOv5, or both at once.
LIVE_KINDS = {"yunet": "Faces", "yolov5": "Objects (YOLOv5)", "faces+people": "Faces + people"}


class Detectors:
    """The face cascade and one YOLOv5 model, loaded lazily (from any thread) and reused.

    weights is an explicit model path, or None for the usual search (core.weights);
    a changed path loads the new model on next use.
    """

    def __init__(self, weights: str | Path | None = None):
        self.weights = weights
        self._yolo: YoloDetector | None = None
        self._lock = threading.Lock()

    def is_loaded(self, kind: str) -> bool:
        return kind in FACE_KINDS or (self._yolo is not None and self._yolo_path_matches())

    def loaded_yolo(self) -> YoloDetector | None:
        """The YOLOv5 model in memory, if any (a changed weights path loads another on next use)."""
        return self._yolo

    def get(self, kind: str, live: bool = False) -> Detector:
        """The detector of this kind (KINDS or LIVE_KINDS; live: YuNet's profile for video
        frames); ModelError if its model cannot be found or loaded."""
        if kind == "faces+people":
            return faces_and_people(self.get("yunet", live=True), self._yolov5())
        if kind == "cascade":
            from lwface_desktop.core.cascade import default_face_cascade

            return default_face_cascade()
        if kind == "yunet":
            from lwface_desktop.core.yunet import default_yunet

            return default_yunet().with_options(live=live) if live else default_yunet()
        return self._yolov5()

    def _yolov5(self) -> YoloDetector:
        from lwface_desktop.core.yolo.detector import YoloDetector

        with self._lock:
            if self._yolo is None or not self._yolo_path_matches():
                self._yolo = YoloDetector(self._resolve())
            return self._yolo

    def _resolve(self) -> Path:
        from lwface_desktop.core.weights import resolve_weights

        return resolve_weights(self.weights)

    def _yolo_path_matches(self) -> bool:
        try:
            return self._yolo is not None and self._yolo.weights == self._resolve()
        except ModelError:
            return False


def faces_and_people(faces: Detector, objects: YoloDetector) -> Detector:
    """faces beside objects limited to its "person" class (FacesAndPeople); ModelError if the
    YOLOv5 model has no such class."""
    from lwface_desktop.core.faces_and_people import FacesAndPeople

    try:
        people = objects.with_options(classes=objects.class_ids(["person"]))
    except ValueError:
        raise ModelError(f"{objects.weights.name} has no \"person\" class, so it cannot find people; "
                         "choose Faces, or an official YOLOv5 model.") from None
    return FacesAndPeople(faces, people)
