"""The live camera loop: a QThread from cv2 capture to annotated QImages. Never touches widgets.

The model is loaded before the thread starts (a one-shot job of the camera tab): the thread
only opens the capture, loops and releases it. Stopping is cooperative: request_stop() asks,
and the thread's finished signal says it is over; nothing ever waits for it on the GUI thread.
Frames are scaled here to the size the view shows them at, so the GUI thread only paints.
Each frame also comes as a LiveFrame: the frame as captured with what was found in it, so
that the tab can draw it again (a snapshot, a change of Hide faces) as the settings say now.
A camera or a stream that stops is opened again with backoff (core.reconnect), a video file
starts again if Loop is on; while a Recorder is attached, each drawn frame also goes to it
(add() never waits: the encoder has its own thread).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import cv2
import numpy as np
from PySide6.QtCore import QThread, Signal
from PySide6.QtGui import QImage

from lwface_desktop.core import cpu_budget, reconnect
from lwface_desktop.core.anonymise import FaceTrack
from lwface_desktop.core.detection import Detection, Detector
from lwface_desktop.core.pipeline import capture_latest, process_frame, render
from lwface_desktop.core.recording import DeliveryRate, Recorder, recording_rate
from lwface_desktop.core.sources import FrameSource, LatestFrame
from lwface_desktop.gui.image_view import fit_size
from lwface_desktop.gui.qimage import rgb_to_qimage
from lwface_desktop.gui.workers import message_for

POLL_S = 0.05  # how often the loop looks at the Stop request while waiting
MAX_SHOWN_SIDE = 1920  # the longest side of a shown frame while the view's size is not known


@dataclass(frozen=True)
class LiveOptions:
    """What the live tab's controls say. YuNet (Faces) takes none of the YOLOv5 options; in
    Faces + people the input size and score are its YOLOv5 part's, and people are implied."""

    kind: str = "yolov5"        # detectors.LIVE_KINDS
    img_size: int = 320
    conf: float = 0.25
    people_only: bool = False
    hide: str = "off"           # anonymise.MODES
    landmarks: bool = False
    loop: bool = False          # a video file that ends starts again


@dataclass(frozen=True, eq=False)
class LiveFrame:
    """One frame as captured (HxWx3 uint8 RGB, full resolution, never modified), what the
    detector found in it, and the faces to hide that it missed there (a FaceTrack's kept
    boxes, kept whether or not hiding was on, so that turning it on later hides them too).
    hide and landmarks: how the worker drew it for the view."""

    image: np.ndarray
    detections: list[Detection]
    kept: list[Detection]
    hide: str = "off"
    landmarks: bool = False

    def render(self, hide: str, landmarks: bool) -> np.ndarray:
        """The full-resolution frame drawn so (pipeline.render): what a snapshot saves."""
        return render(self.image, self.detections, hide, self.kept, landmarks)

    def drawn(self) -> np.ndarray:
        """The full-resolution frame as the worker drew it."""
        return self.render(self.hide, self.landmarks)


def view_image(frame: LiveFrame, hide: str, landmarks: bool, view_size: tuple[int, int] | None) -> QImage:
    """frame drawn so, at the size the view shows it (scaled_for_view)."""
    return rgb_to_qimage(scaled_for_view(frame.render(hide, landmarks), view_size))


class CameraWorker(QThread):
    """Owns the capture. A helper thread reads frames into a LatestFrame slot (a video file
    at its own frame rate, like a camera); this thread detects on the newest, draws, and
    emits one QImage at a time: the next only after the view calls frame_consumed().

    The QImage is the annotated frame scaled to view_size (device pixels, set by the tab and
    updated as the view changes size); the LiveFrame comes with it (for a snapshot, or to
    draw it again), holding arrays this worker never touches again."""

    opened = Signal(str)                        # the source's name
    # QImage to show, list[Detection], stats dict, the LiveFrame it shows
    frame_ready = Signal(object, object, object, object)
    failed = Signal(str)                        # a message for the user
    ended = Signal(str)                         # a video file came to its end
    notice = Signal(str)                        # a problem that does not stop the camera
    reconnecting = Signal(int)                  # the live source stopped: seconds to the next try (0: trying)
    reconnected = Signal(str)                   # it is back: its name
    # When the loop takes a frame, in seconds (tests drive it): at most one detection after the
    # frame came, which over the rate's window (3 s) moves it by a few percent, well within 20%.
    clock = staticmethod(time.perf_counter)

    def __init__(self, source: int | str, model: Detector, options: LiveOptions, parent=None):
        super().__init__(parent)
        self.source = source
        # The loaded detector of options.kind (shared: the worker uses with_options() copies) and
        # the options, as one pair the GUI replaces whole (use()): the loop sees old or new, never half.
        self.config: tuple[Detector, LiveOptions] = (model, options)
        self.view_size: tuple[int, int] | None = None  # where frames are shown, in device pixels
        self._consumed = threading.Event()
        self._consumed.set()
        self._slot: LatestFrame | None = None
        self.recorder: Recorder | None = None  # set and cleared by the tab; gets each drawn frame
        self.source_fps: float | None = None   # what the source says, once open (None: it does not say)
        self.source_live = False                # a camera or a stream, once open (not a video file)
        self._delivery = DeliveryRate()          # what it is measured to deliver, from Start on

    @property
    def dropped(self) -> int:
        """Frames the camera delivered that were never shown (newer ones replaced them)."""
        return self._slot.dropped if self._slot is not None else 0

    @property
    def options(self) -> LiveOptions:
        return self.config[1]

    def recording_fps(self) -> float:
        """The frame rate to record at (core.recording.recording_rate): the source's, or the rate
        measured since Start where it says none or, live, one clearly wrong. Any thread."""
        return recording_rate(self.source_fps, self._delivery.rate, self.source_live)

    def use(self, options: LiveOptions, model: Detector | None = None) -> None:
        """From the next frame on: these options (and this model, for another kind). Any thread."""
        self.config = (model or self.config[0], options)

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
            self.source_fps = source.fps if source.fps_reported else None
            self.source_live = source.is_live
            self.opened.emit(source.name)
            resume = reconnect.Resume(lambda: FrameSource(self.source), loop=lambda: self.config[1].loop,
                                      delays=reconnect.RECONNECT_DELAYS_S, on_wait=self.reconnecting.emit,
                                      on_reconnected=self.reconnected.emit)
            capture = threading.Thread(target=capture_latest, args=(source, slot, stop_capture, resume),
                                       name="camera-capture", daemon=True)
            capture.start()
            self._loop(source, slot)
        except Exception as e:  # never lost on stderr, never a traceback in the user's face
            self.failed.emit(message_for(e, "The camera stopped because of an error"))
        finally:
            stop_capture.set()
            if capture is not None:
                capture.join()
            if source is not None:
                source.release()

    def _loop(self, source: FrameSource, slot: LatestFrame) -> None:
        config, problem = None, None
        detector, options = self.config
        track = FaceTrack()  # one per run: a new Start is a new video
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
            if self.config is not config:  # settings changed in the GUI
                config = self.config
                model, options = config
                detector, news = configured(model, options)
                cpu_budget.apply(cpu_budget.for_detector(detector))  # e.g. Faces + people: a thread less for torch
                if news != problem and news is not None:
                    self.notice.emit(news)
                problem = news
            # Timed as it is taken, before the detector: after it, the first frame's stamp would
            # carry a model's warm-up, and the rate measured over the next seconds run high.
            self._delivery.add(frame.index, self.clock())
            annotated, detections, kept, timings = process_frame(frame.image, detector, options.hide, track,
                                                                 options.landmarks)
            live = LiveFrame(frame.image, detections, kept, options.hide, options.landmarks)
            recorder = self.recorder  # read once: the tab may clear it meanwhile
            if recorder is not None:
                recorder.add(annotated, frame.index)
            start = time.perf_counter()
            image = rgb_to_qimage(scaled_for_view(annotated, self.view_size))
            timings["drawing"] += time.perf_counter() - start
            now = time.perf_counter()
            if last_emit is not None:  # smoothed, so the number is readable
                fps = 0.8 * fps + 0.2 / max(now - last_emit, 1e-6) if fps else 1 / max(now - last_emit, 1e-6)
            last_emit = now
            # What the detector used; None where its kind has no such setting (YuNet).
            classes = getattr(detector, "classes", None)
            stats = {"fps": fps, "capture": frame.capture_s, **timings, "dropped": slot.dropped,
                     "index": frame.index, "kind": options.kind, "img_size": getattr(detector, "img_size", None),
                     "conf": getattr(detector, "conf", None), "people_only": classes is not None}
            self._consumed.clear()
            self.frame_ready.emit(image, detections, stats, live)


def configured(model, options: LiveOptions) -> tuple[Detector, str | None]:
    """model (the detector of options.kind) with the tab's options, and a notice for the user
    if the model cannot take one. YuNet takes none (its live profile has its own size and
    threshold). Each option is applied on its own: one the model refuses ("People only" on a
    model with no "person" class) is left out, and the others (input size, score) still apply.
    Faces + people keeps its person class: only its YOLOv5 part's size and score change."""
    if options.kind == "yunet":
        return model, None
    if options.kind == "faces+people":
        detector = model.with_options(conf=options.conf)
    else:
        detector = model.with_options(conf=options.conf, classes=None)
    problems = []
    try:
        detector = detector.with_options(img_size=options.img_size)
    except ValueError as e:
        problems.append(f"the input size {options.img_size} does not suit this model ({e}); "
                        f"it stays {detector.img_size}")
    if options.kind == "yolov5" and options.people_only:
        try:
            detector = detector.with_options(classes=model.class_ids(["person"]))
        except ValueError as e:
            problems.append(f"People only needs a \"person\" class ({e}); all objects are shown")
    if not problems:
        return detector, None
    return detector, "This model cannot do everything asked: " + "; ".join(problems) + "."


def scaled_for_view(rgb: np.ndarray, view_size: tuple[int, int] | None) -> np.ndarray:
    """rgb (HxWx3) at the size the view shows it (fit_size), or with its longest side at most
    MAX_SHOWN_SIDE while that is not known; rgb itself when it is that size already."""
    height, width = rgb.shape[:2]
    if view_size is None:
        scale = min(1.0, MAX_SHOWN_SIDE / max(width, height))
        target = (max(1, round(width * scale)), max(1, round(height * scale)))
    else:
        target = fit_size(width, height, *view_size)
    if target == (width, height):
        return rgb
    smaller = target[0] < width
    return cv2.resize(rgb, target, interpolation=cv2.INTER_AREA if smaller else cv2.INTER_LINEAR)
