"""The live camera loop: a QThread from cv2 capture to annotated QImages. Never touches widgets.

The model is loaded before the thread starts (a one-shot job of the camera tab): the thread
only opens the capture, loops and releases it. Stopping is cooperative: request_stop() asks,
and the thread's finished signal says it is over; nothing ever waits for it on the GUI thread.
"""

from __future__ import annotations

import logging
import threading
import time

from PySide6.QtCore import QThread, Signal

from lwface_desktop.core.detection import Detector
from lwface_desktop.core.errors import UserError
from lwface_desktop.core.pipeline import capture_latest, process_frame
from lwface_desktop.core.sources import FrameSource, LatestFrame
from lwface_desktop.gui.qimage import rgb_to_qimage

log = logging.getLogger(__name__)
POLL_S = 0.05  # how often the loop looks at the Stop request while waiting


class CameraWorker(QThread):
    """Owns the capture. A helper thread reads frames into a LatestFrame slot (a video file
    at its own frame rate, like a camera); this thread detects on the newest, draws, and
    emits one QImage at a time: the next only after the view calls frame_consumed()."""

    opened = Signal(str)                        # the source's name
    frame_ready = Signal(object, object, object)  # QImage, list[Detection], stats dict
    failed = Signal(str)                        # a message for the user
    ended = Signal(str)                         # a video file came to its end
    notice = Signal(str)                        # a problem that does not stop the camera

    def __init__(self, source: int | str, model: Detector, options: dict, parent=None):
        super().__init__(parent)
        self.source = source
        self.model = model          # a loaded YoloDetector, shared: the worker uses with_options() copies
        self.options = options      # img_size, conf, people_only; the GUI replaces it whole
        self._consumed = threading.Event()
        self._consumed.set()
        self._slot: LatestFrame | None = None

    @property
    def dropped(self) -> int:
        """Frames the camera delivered that were never shown (newer ones replaced them)."""
        return self._slot.dropped if self._slot is not None else 0

    def frame_consumed(self) -> None:
        """The view has shown the last frame: the next may come. Safe from any thread."""
        self._consumed.set()

    def request_stop(self) -> None:
        """Ask the loop to end (it may be waiting for the view); returns at once."""
        self.requestInterruption()
        self._consumed.set()

    def run(self) -> None:
        slot, stop_capture = LatestFrame(), threading.Event()
        self._slot = slot
        capture, source = None, None
        try:
            source = FrameSource(self.source)  # a stream may take seconds: Stop is looked at after
            if self.isInterruptionRequested():
                return
            self.opened.emit(source.name)
            capture = threading.Thread(target=capture_latest, args=(source, slot, stop_capture),
                                       name="camera-capture", daemon=True)
            capture.start()
            self._loop(self.model, source, slot)
        except UserError as e:
            self.failed.emit(str(e))
        except Exception as e:  # never lost on stderr, never a traceback in the user's face
            log.exception("camera worker failed")
            self.failed.emit(f"The camera stopped because of an error: {e}")
        finally:
            stop_capture.set()
            if capture is not None:
                capture.join()
            if source is not None:
                source.release()

    def _loop(self, model, source: FrameSource, slot: LatestFrame) -> None:
        options, detector = None, model
        fps, last_emit = 0.0, None
        while not self.isInterruptionRequested():
            if not self._consumed.wait(POLL_S):
                continue  # the view is still busy with the previous frame; the slot drops
            frame = slot.take(POLL_S)
            if frame is None:
                if slot.ended:
                    if slot.error:
                        self.failed.emit(slot.error)
                    else:
                        self.ended.emit(f"The video {source.name} ended.")
                    return
                continue
            if self.options is not options:  # settings changed in the GUI
                options = self.options
                try:
                    classes = model.class_ids(["person"]) if options.get("people_only") else None
                    detector = model.with_options(img_size=options["img_size"], conf=options["conf"],
                                                  classes=classes)
                except ValueError as e:  # "People only" on a model without people, 320 on a P6 model
                    self.notice.emit(f"This model cannot do that ({e}); the previous settings stay.")
            annotated, detections, timings = process_frame(frame.image, detector)
            start = time.perf_counter()
            image = rgb_to_qimage(annotated)
            timings["drawing"] += time.perf_counter() - start
            now = time.perf_counter()
            if last_emit is not None:  # smoothed, so the number is readable
                fps = 0.8 * fps + 0.2 / max(now - last_emit, 1e-6) if fps else 1 / max(now - last_emit, 1e-6)
            last_emit = now
            stats = {"fps": fps, "capture": frame.capture_s, **timings, "dropped": slot.dropped,
                     "index": frame.index}
            self._consumed.clear()
            self.frame_ready.emit(image, detections, stats)

