"""A live source that stops is opened again with backoff; a video file that ends can loop."""

import itertools
import threading

import numpy as np
import pytest

from lwface_desktop.core.pipeline import capture_latest
from lwface_desktop.core.reconnect import Resume, backoff
from lwface_desktop.core.sources import FrameSource, SourceError

SETTLE_S = 30  # generous: no test waits this long when it passes


class Frames:
    """A slot that keeps every frame put (LatestFrame keeps only the newest)."""

    def __init__(self):
        self.indices: list[int] = []
        self.ended: list[str | None] = []

    def put(self, frame) -> None:
        self.indices.append(frame.index)

    def end(self, error: str | None = None) -> None:
        self.ended.append(error)


class FakeCamera:
    """A live source that gives `frames` frames, then stops sending (read() -> None)."""

    is_live, fps, error, name = True, 30.0, None, "camera 0"

    def __init__(self, frames: int):
        self.left = frames
        self.released = False

    def read(self):
        if self.left == 0:
            return None
        self.left -= 1
        return np.zeros((4, 4, 3), np.uint8)

    def release(self) -> None:
        self.released = True


class Reopen:
    """Opens as outcomes say, one per attempt: a number of frames (a FakeCamera that gives
    them) or None (SourceError, like an unplugged camera); after the last, sets stop."""

    def __init__(self, outcomes: list[int | None], stop: threading.Event):
        self.outcomes, self.stop, self.attempts = list(outcomes), stop, 0
        self.opened: list[FakeCamera] = []

    def __call__(self):
        self.attempts += 1
        if not self.outcomes:
            self.stop.set()
        if not self.outcomes or (frames := self.outcomes.pop(0)) is None:
            raise SourceError("Camera 0 could not be opened.")
        self.opened.append(FakeCamera(frames))
        return self.opened[-1]


def test_the_backoff_doubles_up_to_30_s_and_stays_there():
    assert list(itertools.islice(backoff(), 9)) == [1, 2, 4, 8, 16, 30, 30, 30, 30]


def test_a_camera_that_stops_is_reopened_and_frame_numbers_go_on():
    stop, frames, waits, back = threading.Event(), Frames(), [], []
    first, reopen = FakeCamera(3), Reopen([None, None, 4], stop)  # away for two tries, then back
    resume = Resume(reopen, delays=(0.001, 0.002), on_wait=waits.append, on_reconnected=back.append)
    capture_latest(first, frames, stop, resume)  # the second camera stops too; then nothing opens
    assert frames.indices == list(range(7))  # 3, then 4 more after the reconnect, numbered on
    assert back == ["camera 0"] and reopen.attempts == 4
    assert waits.count(0) == 4 and all(isinstance(w, int) and w >= 0 for w in waits)  # 0: a try starts
    assert first.released and reopen.opened[0].released
    assert frames.ended == []  # it was stopped: no message


def test_stop_ends_a_backoff_wait_at_once():
    """A wait of an hour before the next try: Stop ends it (an Event wait, not a sleep)."""
    stop, frames, waiting = threading.Event(), Frames(), threading.Event()
    resume = Resume(Reopen([None] * 10, stop), delays=(3600,), on_wait=lambda s: waiting.set())
    capture = threading.Thread(target=capture_latest, args=(FakeCamera(1), frames, stop, resume))
    capture.start()
    assert waiting.wait(SETTLE_S)
    stop.set()
    capture.join(SETTLE_S)
    assert not capture.is_alive() and frames.indices == [0] and frames.ended == []


def test_without_resume_a_camera_that_stops_says_so():
    frames = Frames()
    capture_latest(FakeCamera(2), frames, threading.Event())
    assert frames.ended == ["Camera 0 stopped sending pictures. Was it unplugged?"]


@pytest.fixture
def short_clip(tmp_path):
    """Five frames at 120 fps: a clip that ends quickly, in real time."""
    import cv2

    path = tmp_path / "short.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 120, (64, 48))
    for value in range(5):
        writer.write(np.full((48, 64, 3), value * 40, np.uint8))
    writer.release()
    return path


def test_a_video_file_loops_when_asked(short_clip):
    stop, frames = threading.Event(), Frames()

    def reopen():
        if len(frames.indices) >= 15:
            stop.set()  # three times through: enough
        return FrameSource(str(short_clip))

    capture_latest(FrameSource(str(short_clip)), frames, stop, Resume(reopen, loop=lambda: True))
    assert frames.indices == list(range(15)) and frames.ended == []


def test_a_video_file_without_loop_ends_as_before(short_clip):
    frames, reopened = Frames(), []
    resume = Resume(lambda: reopened.append(1), loop=lambda: False)
    capture_latest(FrameSource(str(short_clip)), frames, threading.Event(), resume)
    assert frames.indices == list(range(5)) and frames.ended == [None] and reopened == []


def test_a_looped_file_that_is_gone_says_so(short_clip, tmp_path):
    frames = Frames()
    copy = tmp_path / "gone.avi"
    copy.write_bytes(short_clip.read_bytes())
    source = FrameSource(str(copy))
    copy.unlink()
    capture_latest(source, frames, threading.Event(), Resume(lambda: FrameSource(str(copy)), loop=lambda: True))
    assert frames.indices == list(range(5)) and frames.ended == [f"The video file {copy} was not found."]
