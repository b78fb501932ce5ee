"""The two pipelines the GUI and the CLI share: photos, and frames.

analyse_photo() is the one photo pipeline (decode, detect, draw) behind the Open image tab,
`detect` and `bench`. process_frame() detects and draws one frame; capture_latest() keeps the
live tab's LatestFrame filled from a FrameSource (sources.py), going on when it stops as
reconnect.py says; run_video() runs every frame of a source through the detector, decoding
and writing in threads beside it, for `video`.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from lwface_desktop.core import cpu_budget
from lwface_desktop.core.annotate import annotate
from lwface_desktop.core.anonymise import MODES, FaceTrack, anonymise, is_hidden
from lwface_desktop.core.detection import Detection, Detector
from lwface_desktop.core.images import open_photo
from lwface_desktop.core.outputs import writing
from lwface_desktop.core.reconnect import Resume
from lwface_desktop.core.sources import Frame, FrameSource, LatestFrame, SourceError

WRITER_CODECS = {".mp4": "mp4v", ".avi": "MJPG", ".mkv": "XVID", ".webm": "VP90"}


def render(image: np.ndarray, detections: list[Detection], hide: str = "off",
           also_hide: list[Detection] | tuple[Detection, ...] = (), landmarks: bool = False) -> np.ndarray:
    """What is shown, saved and written: image with its faces hidden by hide (anonymise.MODES)
    and every detection not hidden boxed in its class colour. A hidden face gets no box: the mask shows
    where it is, and a box with "face 0.93" over it is not what a user shares. also_hide: more
    faces to hide, not drawn (a video's kept boxes of faces missed in this frame); landmarks:
    dots on the landmarks of the detections drawn."""
    if hide == "off":
        return annotate(image, detections, landmarks=landmarks)
    shown = [d for d in detections if not is_hidden(d)]
    hidden = anonymise(image, [*detections, *also_hide], hide)
    # anonymise() copied the frame if it hid anything: draw on that copy rather than copy it again.
    return annotate(hidden, shown, landmarks=landmarks, in_place=hidden is not image)


def process_frame(frame: np.ndarray, detector: Detector, hide: str = "off", track: FaceTrack | None = None,
                  landmarks: bool = False) -> tuple[np.ndarray, list[Detection], list[Detection], dict[str, float]]:
    """Detect and draw one RGB frame of a video, the live tab's pipeline: (annotated copy,
    detections, kept, seconds per stage). track (one per video) follows the faces whether or
    not they are hidden; kept are its boxes of faces this frame missed, hidden with the rest, so
    that a face the detector loses for a frame or two never flashes (and a frame kept for a
    snapshot can be drawn again, hidden, if hiding is turned on later)."""
    start = time.perf_counter()
    detections = detector.detect(frame)
    detected = time.perf_counter()
    kept = track.missed(detections) if track is not None else []
    annotated = render(frame, detections, hide, kept, landmarks)
    return annotated, detections, kept, {"inference": detected - start, "drawing": time.perf_counter() - detected}


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
                  draw: bool = True, hide: str = "off", landmarks: bool = False) -> PhotoAnalysis:
    """Decode, detect and (if draw) annotate one JPEG: the pipeline of the Open image tab and
    of `detect`/`bench`. view_max_side=None draws on the full-resolution photo; hide and
    landmarks say how it is drawn (render).

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
        annotated = render(annotated, [d.scaled(scale) for d in detections], hide, landmarks=landmarks)
    timing = {"decode": decoded - start, "detect": detected - decoded, "draw": time.perf_counter() - detected}
    return PhotoAnalysis(path, photo.width, photo.height, detections, detector.label, annotated, timing)


def annotate_photo(path: str | Path, detections: list[Detection], hide: str = "off",
                   landmarks: bool = False) -> np.ndarray:
    """The full-resolution photo with these detections drawn (render): what a save writes."""
    return render(open_photo(path).pixels, detections, hide, landmarks=landmarks)


@dataclass
class VideoStats:
    frames: int = 0
    seconds: float = 0.0
    detector_seconds: float = 0.0     # time inside detector.detect, summed
    fps: float = 0.0


def run_video(source: FrameSource, detector: Detector, output: str | Path | None = None,
              on_frame: Callable[[int, list[Detection]], None] | None = None,
              stop: threading.Event | None = None, overwrite: bool = False, hide: str = "off") -> VideoStats:
    """Every frame of source through detector (and into output, same size and frame rate).

    Decoding runs one frame ahead and drawing/encoding one behind, in their own threads,
    so the detector is rarely kept waiting. on_frame(index, detections) runs in order, with
    the detections of that frame. hide (anonymise.MODES) hides the faces in output (render):
    a FaceTrack for the run keeps hiding a face where it was last seen for the few frames
    the detector misses it, so that it never flashes un-hidden.
    The video is written under a temporary name (outputs.writing) and renamed onto output
    once complete: stop (set from a signal handler, say) ends it early with every frame so
    far in a playable file; an error or KeyboardInterrupt leaves no file at all; an existing
    output is replaced only with overwrite. source is always released.
    SourceError if the source gives no frame at all (unless stopped) or a frame too large.
    """
    stop = stop or threading.Event()
    cpu_budget.apply(cpu_budget.for_detector(detector))
    try:
        if hide not in MODES:
            raise ValueError(f"hide must be one of {', '.join(MODES)}, not {hide!r}")
        with contextlib.ExitStack() as closing:
            writer = None
            if output:
                _writer_codec(output)  # a bad extension is said before anything is created
                temp = closing.enter_context(writing(output, overwrite=overwrite))
                writer = _open_writer(temp, source, shown=output)
            stats = _run_frames(source, detector, writer, on_frame, stop, hide)
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
                on_frame: Callable[[int, list[Detection]], None] | None, stop: threading.Event,
                hide: str) -> VideoStats:
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

    track = FaceTrack() if hide != "off" else None  # frames reach it in order, on this one thread

    def draw_and_write() -> None:
        try:
            while (item := finished.get()) is not None:
                frame, detections = item
                if writer is not None:
                    kept = track.missed(detections) if track is not None else []
                    drawn = cv2.cvtColor(render(frame.image, detections, hide, kept), cv2.COLOR_RGB2BGR)
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


def capture_latest(source: FrameSource, slot: LatestFrame, stop: threading.Event,
                   resume: Resume | None = None) -> None:
    """The live tab's reader thread: frames into the slot until stopped or the source ends.
    Files play in real time, like a camera. With resume, a source that stops is followed by
    the one resume gives (a camera reopened, a file looped), frame numbers going on from
    where they were; sources opened here are released here."""
    following, index = source, 0
    try:
        while True:
            delivered = False
            for frame in _frames(following, stop, real_time=True):
                frame.index += index
                slot.put(frame)
                delivered = True
            if stop.is_set():
                return
            if delivered:
                index = frame.index + 1
            if following.error or resume is None:
                break
            following_on = resume.next_source(following, delivered, stop)
            if following_on is None:
                break
            following.release()
            following = following_on
    except SourceError as e:  # a looped file that cannot be opened again
        slot.end(str(e))
        return
    except Exception as e:  # a decoder error or no memory: the tab says so instead of freezing
        slot.end(f"Reading {following.name} failed: {e or type(e).__name__}.")
        return
    finally:
        if following is not source:
            following.release()
    if not stop.is_set():  # an error, a camera gone, or (None) the end of a file
        slot.end(following.error or (f"{following.name.capitalize()} stopped sending pictures. Was it unplugged?"
                                     if following.is_live else None))


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
    writer = cv2.VideoWriter(str(output), cv2.VideoWriter.fourcc(*codec), source.fps, source.size)
    if not writer.isOpened():
        raise SourceError(f"Could not write the video {shown or output}.")
    return writer
