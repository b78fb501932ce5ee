"""Loading detectors in jobs without stalling the GUI thread through the garbage collector.

Importing torch creates some 250,000 Python objects that live as long as the process. Left
to Python's cyclic garbage collector, every full collection walks all of them, holding the
GIL for 0.1-0.25 s on this machine: a model load (which allocates enough to trigger one)
then stalled the GUI thread that long, whichever thread the load ran on. So the first job
that needs torch imports it with the collector paused and then freezes everything alive
(gc.freeze: those objects are left out of later collections; garbage made afterwards is
collected as usual). Measured by benchmarks/gui_stall.py.
"""

from __future__ import annotations

import gc
import threading

from lwface_desktop.core.detection import Detector
from lwface_desktop.core.detectors import Detectors

_imported = False
_lock = threading.Lock()


def import_torch() -> None:
    """Import torch and the YOLOv5 code once, then freeze them out of the collector. Call it
    from a job: the import itself holds the GIL (a one-off at the first model load)."""
    global _imported
    with _lock:
        if _imported:
            return
        enabled = gc.isenabled()
        gc.disable()  # no full collection in the middle of a quarter of a million new objects
        try:
            import lwface_desktop.core.yolo.detector  # noqa: F401  (torch and all it brings)
        finally:
            gc.freeze()
            if enabled:
                gc.enable()
        _imported = True


TORCH_KINDS = ("yolov5", "faces+people")  # the kinds that run YOLOv5


def load(detectors: Detectors, kind: str, live: bool = False) -> Detector:
    """detectors.get(kind, live), in a job; those with YOLOv5 with torch imported as above.
    Faces alone never import torch."""
    if kind in TORCH_KINDS:
        import_torch()
    return detectors.get(kind, live=live)


def load_for_photos(detectors: Detectors, kind: str, score: float) -> Detector:
    """load(), in a job, as photos use it: with this minimum score (a copy; the shared detector
    keeps its own) and, for YOLOv5, the photos' precision. The Open image tab, its film strip's
    queue and Export all find with it."""
    detector = load(detectors, kind)
    if kind == "yolov5":
        from lwface_desktop.core.yolo.detector import PHOTO_PRECISION

        # The shared model keeps its own settings (the live camera's precision among them).
        return detector.with_options(conf=score, precision=PHOTO_PRECISION)
    if kind == "yunet" and score != detector.min_score:
        return detector.with_options(min_score=score)
    return detector
