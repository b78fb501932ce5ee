"""Recording the live tab's annotated frames to MP4, beside the camera loop and never in its way.

The camera loop hands each drawn frame to Recorder.add(), which never blocks: a bounded queue
that, when the encoder falls behind, drops the newest frame (counted in dropped). run(), on the
recorder's own thread, encodes them (mp4v, the one MP4 codec OpenCV's wheel writes) at the
source's frame rate: each frame comes with the source's frame number, and a frame stands for
every source frame up to the next one written, so a detector that keeps one frame in three
still gives a video of the right length. The frame size is the first frame's; others are
resized to it. The rate is fixed when the recording starts (recording_rate): a video file's
own, but for a camera or a stream the rate it is measured to deliver (DeliveryRate) when that
differs clearly from what it reports: a camera that says 30 but sends 15 in low light would
otherwise give a video that plays twice too fast.

An MP4 is playable only once its index (moov) is written, at the writer's release, and
OpenCV's writer cannot write a fragmented MP4. So every way of stopping ends in release():
Stop, the camera stopping, the window closing, Ctrl+C and SIGTERM (which close the window).
Each part is written under a temporary name and renamed into place once complete
(outputs.writing), and a new part starts every SEGMENT_S seconds of video: a crash or a
kill -9 loses at most the part being written (its hidden .partial file stays behind).
A disk that is almost full ends the recording with what was written so far kept.
"""

from __future__ import annotations

import contextlib
import math
import queue
import shutil
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

from lwface_desktop.core.images import unused_path
from lwface_desktop.core.outputs import OutputError, writing

CODEC = "mp4v"
QUEUE_FRAMES = 8             # frames waiting for the encoder: 50 MB at 1080p, then frames are dropped
SEGMENT_S = 300              # a new file every 5 minutes of video: what a crash can lose at most
MIN_FREE_BYTES = 64 << 20    # the recording stops (and is kept) when the disk has less free
MAX_GAP_S = 2.0              # a longer jump in frame numbers is cut, not filled with a frozen frame
POLL_S = 0.1                 # how often the encoder looks for finish() while no frame comes
FREE_CHECK_FRAMES = 30       # how often (in frames written) the free space is looked at
RATE_WINDOW_S = 3.0          # a live source's delivery rate is measured over the last 3 s of frames
MIN_RATE_SPAN_S = 1.0        # and trusted once its frames span a second and number at least
MIN_RATE_FRAMES = 10         # ten (one late frame then moves the figure by under a tenth)
RATE_MISMATCH = 0.2          # measured rates within 20% of the reported one are noise: the reported one is kept
DEFAULT_FPS = 30.0           # a source that does not say, before its rate is measured


class DeliveryRate:
    """The rate a live source delivers frames, from its frame numbers (rising; frames skipped
    by a slow detector count, since the numbers go on) against the time each was seen, over
    the last RATE_WINDOW_S. rate is None until it can be trusted; it is one attribute, so
    another thread may read it while add() runs."""

    def __init__(self) -> None:
        self.rate: float | None = None
        self._seen: deque[tuple[int, float]] = deque()  # (frame number, seconds)

    def add(self, index: int, seconds: float) -> None:
        if self._seen and (index < self._seen[-1][0] or seconds - self._seen[-1][1] > MAX_GAP_S):
            self._seen.clear()  # a new start, or a reconnect's pause: not the source's pace
        self._seen.append((index, seconds))
        while len(self._seen) > 2 and seconds - self._seen[1][1] >= RATE_WINDOW_S:
            self._seen.popleft()  # the window still spans RATE_WINDOW_S without it
        (first, start), (last, end) = self._seen[0], self._seen[-1]
        trusted = end - start >= MIN_RATE_SPAN_S and last - first >= MIN_RATE_FRAMES
        self.rate = (last - first) / (end - start) if trusted else None


def recording_rate(reported: float | None, measured: float | None, live: bool) -> float:
    """The frame rate to record at. reported: what the source says (None: nothing sensible);
    measured: DeliveryRate.rate; live: a camera or a stream (a video file's rate is exact,
    its frames paced by it). The measured rate, to a tenth, where the reported one is missing
    or, for a live source, off by more than RATE_MISMATCH."""
    if measured is not None and (reported is None or live and abs(measured - reported) > RATE_MISMATCH * reported):
        return round(measured, 1)
    return reported or DEFAULT_FPS


@dataclass
class RecordingResult:
    """What a recording left: its files (in order; none if no frame came), frames written
    (with the repeats that keep the source's timing), frames dropped because the encoder was
    behind, its frame rate, and why it stopped early (a disk almost full), if it did."""

    paths: list[Path] = field(default_factory=list)
    frames: int = 0
    dropped: int = 0
    fps: float = DEFAULT_FPS
    problem: str | None = None

    @property
    def seconds(self) -> float:
        return self.frames / self.fps


class Recorder:
    """Frames in (add(), any thread, never waits), MP4 files out (run(), its own thread).

    folder: where the files go (created if missing); fps: the source's frame rate; stem: the
    file name without ".mp4" (default recording-<date>-<time>); later parts add -2, -3…"""

    def __init__(self, folder: str | Path, fps: float, stem: str | None = None, *,
                 queue_frames: int = QUEUE_FRAMES, segment_s: float = SEGMENT_S,
                 min_free_bytes: int = MIN_FREE_BYTES):
        self.folder = Path(folder)
        self.fps = fps if math.isfinite(fps) and fps > 0 else DEFAULT_FPS
        self.stem = stem or f"recording-{datetime.now():%Y%m%d-%H%M%S}"
        self.result = RecordingResult(fps=self.fps)
        self._frames: queue.Queue[tuple[np.ndarray, int]] = queue.Queue(maxsize=max(1, queue_frames))
        self._segment_frames = max(1, round(segment_s * self.fps))
        self._min_free = min_free_bytes
        self._finishing = threading.Event()
        self._size: tuple[int, int] | None = None       # (width, height), the first frame's
        self._first_index: int | None = None             # the source frame number of video frame 0

    def add(self, rgb: np.ndarray, index: int) -> None:
        """Queue one drawn frame (HxWx3 uint8 RGB, not modified afterwards) and its source
        frame number (rising). Never blocks: a full queue drops it. Ignored after finish()."""
        if self._finishing.is_set():
            return
        try:
            self._frames.put_nowait((rgb, index))
        except queue.Full:
            self.result.dropped += 1

    def finish(self) -> None:
        """Ask run() to write what is queued, complete the file and return. Any thread; at once."""
        self._finishing.set()

    @property
    def finishing(self) -> bool:
        return self._finishing.is_set()

    def run(self) -> RecordingResult:
        """Encode until finish(): the files are complete and in place when it returns.
        OutputError if the folder or a file cannot be written (files already complete stay)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise OutputError(f"Could not create the folder {self.folder} for the recording: "
                              f"{e.strerror or e}.") from None
        part = 1
        while self._record_part(part):
            part += 1
        return self.result

    def _next_frame(self) -> tuple[np.ndarray, int] | None:
        """The next queued frame; None once finish() was asked and the queue is empty."""
        while True:
            try:
                return self._frames.get(timeout=POLL_S)
            except queue.Empty:
                if self._finishing.is_set():
                    return None

    def _record_part(self, part: int) -> bool:
        """Write one part; True if another is to follow (this one is full)."""
        item = self._next_frame()
        if item is None:
            return False
        target = unused_path(self.folder, self.stem if part == 1 else f"{self.stem}-{part}", ".mp4")
        with writing(target) as temp:
            writer = self._open(temp, target, item[0])
            try:
                more = self._write_frames(writer, item)
            finally:
                writer.release()  # the index is written: the part is playable from here
        self.result.paths.append(target)
        return more

    def _open(self, temp: Path, target: Path, first: np.ndarray) -> cv2.VideoWriter:
        if self._size is None:
            height, width = first.shape[:2]
            self._size = (width - width % 2, height - height % 2)  # mp4v wants even sides
        writer = cv2.VideoWriter(str(temp), cv2.VideoWriter.fourcc(*CODEC), self.fps, self._size)
        if not writer.isOpened():
            raise OutputError(f"Could not write the recording {target}.")
        return writer

    def _write_frames(self, writer: cv2.VideoWriter, item: tuple[np.ndarray, int] | None) -> bool:
        written = 0
        max_gap = max(1, round(MAX_GAP_S * self.fps))
        while item is not None:
            rgb, index = item
            if self._first_index is None:
                self._first_index = index
            # This frame stands for source frames up to its own number: repeat it so far.
            repeats = index - self._first_index - self.result.frames + 1
            if repeats > max_gap:  # a long gap (a reconnect, a seek): cut it out
                self._first_index += repeats - 1
                repeats = 1
            if repeats > 0:
                frame = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
                if frame.shape[1::-1] != self._size:
                    frame = cv2.resize(frame, self._size, interpolation=cv2.INTER_AREA)
                for _ in range(min(repeats, self._segment_frames - written)):
                    writer.write(frame)
                    written += 1
                    self.result.frames += 1
                    if self.result.frames % FREE_CHECK_FRAMES == 0 and self._disk_almost_full():
                        return False
                if written >= self._segment_frames:
                    return True
            item = self._next_frame()
        return False

    def _disk_almost_full(self) -> bool:
        with contextlib.suppress(OSError):
            if shutil.disk_usage(self.folder).free < self._min_free:
                self.result.problem = (f"The disk holding {self.folder} is almost full: the recording "
                                       "stopped there (what was recorded is kept).")
                self._finishing.set()
                return True
        return False
