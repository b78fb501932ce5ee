"""Where frames come from: cameras, video files and streams, as RGB arrays.

FrameSource wraps cv2.VideoCapture (a camera index, a video file or a stream URL) and is the
one place BGR becomes RGB; frames larger than MAX_FRAME_PIXELS are refused. LatestFrame is
the camera tab's hand-over: a slot that always holds only the newest frame, so a slow
detector drops stale frames instead of queueing them.
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from lwface_desktop.core.errors import UserError
from lwface_desktop.core.files import open_regular_file

# A missing camera is our message to the user, not two lines of OpenCV warnings on stderr.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)

STREAM_TIMEOUT_MS = 5000


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
    """How a source is named to the user (status bar, messages): "camera 0", a file's name,
    or a URL with its password masked ("rtsp://user:***@host/live"). The one place a
    source is described for display."""
    if isinstance(source, int):
        return f"camera {source}"
    return mask_credentials(source) if "://" in source else Path(source).name


_SECRET_PARAMETERS = ("pass", "pwd", "secret", "token", "key", "auth", "sig")


def mask_credentials(url: str) -> str:
    """url with the password of its user:password@ part, and the values of query parameters
    that look like secrets (password=, pwd=, token=, key=, auth=...), replaced by ***."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url
    ends = [i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0]
    authority, tail = rest[:min(ends, default=len(rest))], rest[min(ends, default=len(rest)):]
    userinfo, at, host = authority.rpartition("@")  # a password may itself hold an "@"
    if at:
        user, colon, _ = userinfo.partition(":")
        authority = f"{user}{':***' if colon else ''}@{host}"
    before_query, question, query = tail.partition("?")
    if question:
        query, hash_sign, fragment = query.partition("#")
        parameters = []
        for parameter in query.split("&"):
            name, equals, value = parameter.partition("=")
            secret = equals and value and any(word in name.lower() for word in _SECRET_PARAMETERS)
            parameters.append(f"{name}=***" if secret else parameter)
        tail = f"{before_query}?{'&'.join(parameters)}{hash_sign}{fragment}"
    return f"{scheme}://{authority}{tail}"


def find_cameras(indices: range = range(4)) -> list[int]:
    """Camera indices that open. Quick when there are none (< 1 ms each); a camera that is
    there can take a second or more to open, so call it off the GUI thread."""
    found = []
    for index in indices:
        try:
            FrameSource(index).release()
            found.append(index)
        except SourceError:
            pass
    return found


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
        self.fps_reported = 1 <= self.fps <= 240  # cameras and streams often report 0 or nonsense
        if not self.fps_reported:
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

    def __init__(self) -> None:
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
