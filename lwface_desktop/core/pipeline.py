"""The two pipelines the GUI and the CLI share: photos, and frames.

analyse_photo() is the one photo pipeline (decode, detect, draw) behind the Open image tab,
`detect` and `bench`. FrameSource wraps cv2.VideoCapture (a camera index, a video file or a stream URL) and is the
one place BGR becomes RGB. LatestFrame is the camera tab's hand-over: a slot that always
holds only the newest frame, so a slow detector drops stale frames instead of queueing them.
process_frame() detects and draws one frame; capture_latest() keeps the slot filled for the
live tab; run_video() runs every frame of a source through the detector with decoding and
writing in threads beside it.
"""

from __future__ import annotations

import contextlib
import math
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from lwface_desktop.core.annotate import annotate
from lwface_desktop.core.detection import Detection, Detector
from lwface_desktop.core.errors import UserError
from lwface_desktop.core.files import open_regular_file
from lwface_desktop.core.images import open_photo
from lwface_desktop.core.outputs import writing

# A missing camera is our message to the user, not two lines of OpenCV warnings on stderr.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)

STREAM_TIMEOUT_MS = 5000
WRITER_CODECS = {".mp4": "mp4v", ".avi": "MJPG", ".mkv": "XVID", ".webm": "VP90"}


class SourceError(UserError):
    """A camera, file or stream that cannot be opened or stops; the message says which."""


# 4096 x 4096 (16.8 megapixels) holds 4K UHD (3840 x 2160), DCI 4K (4096 x 2160) and 5K
# (5120 x 2880) frames. run_video keeps about a dozen frame copies in flight (two queues of
# 4, plus those being read, detected, drawn and encoded): 50 MB each at this bound, ~0.6 GB,
# against 200 MB each, ~2.4 GB and more, for 8192 x 8192.
MAX_FRAME_PIXELS = 4096 * 4096


def parse_source(text: str | int) -> int | str:
    """'0' -> camera 0; 'file:///a/b.mp4' -> '/a/b.mp4'; anything else is a file path or a URL."""
    if isinstance(text, int):
        return text
    text = text.strip()
    if text.isdigit():
        return int(text)
    if text.lower().startswith("file://"):
        from urllib.parse import unquote, urlsplit

        return unquote(urlsplit(text).path)
    return text


def describe_source(source: int | str) -> str:
    if isinstance(source, int):
        return f"camera {source}"
    return source if "://" in source else Path(source).name


def _frame_too_large(name: str, width: int, height: int) -> str:
    return (f"{name} has frames of {width} × {height} pixels; the largest supported video frame "
            f"is 4096 × 4096 pixels ({MAX_FRAME_PIXELS / 1e6:.1f} megapixels).")


def check_video_file(path: str) -> None:
    """SourceError unless path is a regular file that can be read: a named pipe or a device
    would block the decoder for ever, a folder or a link loop is not a video."""
    if not os.path.lexists(path):
        raise SourceError(f"The video file {path} was not found.")
    with open_regular_file(path, "video", SourceError):
        pass


_TO_RGB = {3: cv2.COLOR_BGR2RGB, 1: cv2.COLOR_GRAY2RGB, 4: cv2.COLOR_BGRA2RGB}  # by channels


def _number(value: float) -> float:
    return value if math.isfinite(value) else 0.0


class FrameSource:
    """Frames from a camera, a video file or a stream, as HxWx3 uint8 RGB arrays.

    Frames larger than MAX_FRAME_PIXELS are refused at open (the size the capture reports)
    and at each read: read() then returns None and error holds the message.
    """

    def __init__(self, source: int | str):
        self.source = parse_source(source)
        self.name = describe_source(self.source)
        self.is_live = isinstance(self.source, int) or "://" in str(self.source)
        self.error: str | None = None  # why read() stopped early, if it did
        if isinstance(self.source, str) and "://" in self.source:
            self._capture = cv2.VideoCapture(self.source, cv2.CAP_FFMPEG, [
                cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, STREAM_TIMEOUT_MS, cv2.CAP_PROP_READ_TIMEOUT_MSEC, STREAM_TIMEOUT_MS])
        elif isinstance(self.source, str):
            check_video_file(self.source)
            # An absolute path: FFmpeg would read "name:rest" as a protocol (pipe:, concat:).
            self._capture = cv2.VideoCapture(os.path.abspath(self.source))
        else:
            self._capture = cv2.VideoCapture(self.source)
        if not self._capture.isOpened():
            self._capture.release()
            if isinstance(self.source, int):
                raise SourceError(f"Camera {self.source} could not be opened: it is not connected, "
                                  "or another program is using it.")
            raise SourceError(f"{self.name} could not be opened as a video or stream.")
        self.fps = _number(self._capture.get(cv2.CAP_PROP_FPS))
        if not 1 <= self.fps <= 240:  # cameras and streams often report 0 or nonsense
            self.fps = 30.0
        count = _number(self._capture.get(cv2.CAP_PROP_FRAME_COUNT))
        self.frame_count = int(count) if not self.is_live and 0 < count < 1e9 else 0
        width = _number(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = _number(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self.size = (max(0, int(min(width, 1e6))), max(0, int(min(height, 1e6))))
        if self.size[0] * self.size[1] > MAX_FRAME_PIXELS:
            self._capture.release()
            raise SourceError(_frame_too_large(self.name, *self.size))

    def read(self) -> np.ndarray | None:
        """The next frame in RGB, or None at the end of a file (or when a camera stops, or
        a frame is larger than MAX_FRAME_PIXELS: then error says so)."""
        if self.error is not None:
            return None
        ok, frame = self._capture.read()
        if not ok or frame is None:
            return None
        if frame.shape[0] * frame.shape[1] > MAX_FRAME_PIXELS:
            self.error = _frame_too_large(self.name, frame.shape[1], frame.shape[0])
            return None
        conversion = _TO_RGB.get(frame.shape[2] if frame.ndim == 3 else 1)
        if frame.dtype != np.uint8 or conversion is None:
            self.error = f"{self.name} gave a frame in a format this app cannot use."
            return None
        return cv2.cvtColor(frame, conversion)  # the only BGR -> RGB in the app

    def release(self) -> None:
        self._capture.release()

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


@dataclass
class Frame:
    index: int
    image: np.ndarray                 # RGB
    capture_s: float = 0.0            # time to read and convert it


class LatestFrame:
    """A one-frame slot between a producer and a slower consumer: put() replaces whatever
    is waiting (counted as dropped), take() waits for the newest. Never a backlog."""

    def __init__(self):
        self._frame: Frame | None = None
        self._ended = False
        self._error: str | None = None
        self.dropped = 0
        self._ready = threading.Condition()

    def put(self, frame: Frame) -> None:
        with self._ready:
            if self._frame is not None:
                self.dropped += 1
            self._frame = frame
            self._ready.notify()

    def end(self, error: str | None = None) -> None:
        with self._ready:
            self._ended, self._error = True, error
            self._ready.notify()

    def take(self, timeout: float) -> Frame | None:
        """The newest frame, or None if none came within timeout (or the source ended)."""
        with self._ready:
            if self._frame is None and not self._ended:
                self._ready.wait(timeout)
            frame, self._frame = self._frame, None
            return frame

    @property
    def ended(self) -> bool:
        return self._ended and self._frame is None

    @property
    def error(self) -> str | None:
        return self._error


def process_frame(frame: np.ndarray, detector: Detector) -> tuple[np.ndarray, list[Detection], dict[str, float]]:
    """Detect and draw one RGB frame: (annotated copy, detections, seconds per stage)."""
    start = time.perf_counter()
    detections = detector.detect(frame)
    detected = time.perf_counter()
    annotated = annotate(frame, detections)
    return annotated, detections, {"inference": detected - start, "drawing": time.perf_counter() - detected}


@dataclass(frozen=True)
class PhotoAnalysis:
    """One photo's result. Boxes are in full-resolution pixels of the upright photo;
    annotated is the photo with its boxes, scaled to at most view_max_side (None if not drawn)."""

    path: Path
    width: int
    height: int
    detections: list[Detection]
    label: str                        # what one detection is called: "face", "object"
    annotated: np.ndarray | None      # HxWx3 uint8 RGB
    timing: dict[str, float]          # seconds: decode, detect, draw


def analyse_photo(path: str | Path, detector: Detector, view_max_side: int | None = None,
                  draw: bool = True) -> PhotoAnalysis:
    """Decode, detect and (if draw) annotate one JPEG: the pipeline of the Open image tab and
    of `detect`/`bench`. view_max_side=None draws on the full-resolution photo.

    The photo is decoded at the smallest JPEG scale that serves both the detector
    (Detector.decode_side: YOLOv5 needs the full decode to give the official detections)
    and the view; the view is then scaled down with INTER_AREA.
    """
    path = Path(path)
    start = time.perf_counter()
    needed = detector.decode_side
    if needed is not None and draw:
        needed = None if view_max_side is None else max(needed, view_max_side)
    photo = open_photo(path, min_side=needed)
    decoded = time.perf_counter()
    detections = detector.detect_photo(photo)
    detected = time.perf_counter()
    annotated = None
    if draw:
        annotated, shrink = photo.pixels, 1.0
        if view_max_side is not None and max(annotated.shape[:2]) > view_max_side:
            shrink = view_max_side / max(annotated.shape[:2])
            size = (max(1, round(annotated.shape[1] * shrink)), max(1, round(annotated.shape[0] * shrink)))
            annotated = cv2.resize(annotated, size, interpolation=cv2.INTER_AREA)
        scale = photo.scale * shrink  # full-resolution pixels -> drawn pixels
        annotated = annotate(annotated, [d.scaled(scale) for d in detections])
    timing = {"decode": decoded - start, "detect": detected - decoded, "draw": time.perf_counter() - detected}
    return PhotoAnalysis(path, photo.width, photo.height, detections, detector.label, annotated, timing)


def annotate_photo(path: str | Path, detections: list[Detection]) -> np.ndarray:
    """The full-resolution photo with these detections drawn: what a save writes."""
    return annotate(open_photo(path).pixels, detections)


@dataclass
class VideoStats:
    frames: int = 0
    seconds: float = 0.0
    detector_seconds: float = 0.0     # time inside detector.detect, summed
    fps: float = 0.0


def run_video(source: FrameSource, detector: Detector, output: str | Path | None = None,
              on_frame: Callable[[int, list[Detection]], None] | None = None,
              stop: threading.Event | None = None, overwrite: bool = False) -> VideoStats:
    """Every frame of source through detector (and into output, same size and frame rate).

    Decoding runs one frame ahead and drawing/encoding one behind, in their own threads,
    so the detector is rarely kept waiting. on_frame(index, detections) runs in order.
    The video is written under a temporary name (outputs.writing) and renamed onto output
    once complete: stop (set from a signal handler, say) ends it early with every frame so
    far in a playable file; an error or KeyboardInterrupt leaves no file at all; an existing
    output is replaced only with overwrite. source is always released.
    SourceError if the source gives no frame at all (unless stopped) or a frame too large.
    """
    stop = stop or threading.Event()
    try:
        with contextlib.ExitStack() as closing:
            writer = None
            if output:
                _writer_codec(output)  # a bad extension is said before anything is created
                temp = closing.enter_context(writing(output, overwrite=overwrite))
                writer = _open_writer(temp, source, shown=output)
            stats = _run_frames(source, detector, writer, on_frame, stop)
            if source.error:
                raise SourceError(source.error)
            if stats.frames == 0:
                if not stop.is_set():
                    raise SourceError(f"{source.name} gave no frames: it is empty, or not a video "
                                      "this app can decode.")
                raise _NothingWritten
    except _NothingWritten:
        pass  # stopped before the first frame: no empty video left behind
    finally:
        source.release()
    return stats


class _NothingWritten(Exception):
    """Leaves outputs.writing without renaming the temporary file into place."""


def _run_frames(source: FrameSource, detector: Detector, writer: cv2.VideoWriter | None,
                on_frame: Callable[[int, list[Detection]], None] | None, stop: threading.Event) -> VideoStats:
    decoded: queue.Queue = queue.Queue(maxsize=4)
    finished: queue.Queue = queue.Queue(maxsize=4)
    stats = VideoStats()
    failure: list[BaseException] = []
    size = source.size

    def read_all() -> None:
        try:
            for frame in _frames(source, stop):
                decoded.put(frame)
        except BaseException as e:  # handed to the caller, never lost in the thread
            failure.append(e)
        finally:
            decoded.put(None)

    def draw_and_write() -> None:
        try:
            while (item := finished.get()) is not None:
                frame, detections = item
                if writer is not None:
                    drawn = cv2.cvtColor(annotate(frame.image, detections), cv2.COLOR_RGB2BGR)
                    if drawn.shape[1::-1] != size:  # a stream that changed size: the file keeps one
                        drawn = cv2.resize(drawn, size, interpolation=cv2.INTER_AREA)
                    writer.write(drawn)
                if on_frame:
                    on_frame(frame.index, detections)
        except BaseException as e:
            failure.append(e)
            stop.set()
            _drain(finished)

    reader = threading.Thread(target=read_all, name="video-reader", daemon=True)
    drawer = threading.Thread(target=draw_and_write, name="video-writer", daemon=True)
    start = time.perf_counter()
    reader.start()
    drawer.start()
    reached_end = False
    try:
        while (frame := decoded.get()) is not None:
            if stop.is_set():
                continue  # keep draining so the reader can finish
            t = time.perf_counter()
            detections = detector.detect(frame.image)
            stats.detector_seconds += time.perf_counter() - t
            stats.frames += 1
            finished.put((frame, detections))
        reached_end = True
    finally:
        if not reached_end:  # stopped by an error or Ctrl+C: unblock the reader
            stop.set()
            _drain(decoded)
        finished.put(None)
        drawer.join()
        reader.join()
        if writer is not None:
            writer.release()  # the file is complete (and playable) from here
        source.release()
    if failure:
        raise failure[0]
    stats.seconds = time.perf_counter() - start
    stats.fps = stats.frames / stats.seconds if stats.seconds else 0.0
    return stats


def _frames(source: FrameSource, stop: threading.Event, real_time: bool = False) -> Iterator[Frame]:
    """Frames until the source ends or stop is set; real_time paces a file at its frame rate."""
    interval = 1.0 / source.fps if real_time and not source.is_live else 0.0
    due = time.perf_counter()
    index = 0
    while not stop.is_set():
        if interval:
            if stop.wait(max(0.0, due - time.perf_counter())):
                return
            due += interval
        t = time.perf_counter()
        image = source.read()
        if image is None:
            return
        yield Frame(index, image, time.perf_counter() - t)
        index += 1


def capture_latest(source: FrameSource, slot: LatestFrame, stop: threading.Event) -> None:
    """The live tab's reader thread: frames into the slot until stopped or the source ends.
    Files play in real time, like a camera."""
    for frame in _frames(source, stop, real_time=True):
        slot.put(frame)
    if not stop.is_set():  # an error, a camera gone, or (None) the end of a file
        slot.end(source.error or (f"{source.name.capitalize()} stopped sending pictures. Was it unplugged?"
                                  if source.is_live else None))


def _drain(q: queue.Queue) -> None:
    while q.get() is not None:
        pass


def _writer_codec(output: str | Path) -> str:
    codec = WRITER_CODECS.get(Path(output).suffix.lower())
    if codec is None:
        raise SourceError(f"{Path(output).name}: choose a name ending in {', '.join(WRITER_CODECS)}.")
    return codec


def _open_writer(output: str | Path, source: FrameSource, shown: str | Path | None = None) -> cv2.VideoWriter:
    """A writer for output (a temporary name; shown is the one to name in messages)."""
    output = Path(output)
    codec = _writer_codec(output)
    if source.size[0] < 1 or source.size[1] < 1:
        raise SourceError(f"{source.name} does not say its frame size, so no video can be written from it.")
    writer = cv2.VideoWriter(str(output), cv2.VideoWriter_fourcc(*codec), source.fps, source.size)
    if not writer.isOpened():
        raise SourceError(f"Could not write the video {shown or output}.")
    return writer
