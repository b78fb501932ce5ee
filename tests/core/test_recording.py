"""The live tab's recorder: real frames from a real clip to MP4 files that OpenCV opens again."""

import os
import subprocess
import sys
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from lwface_desktop.core.outputs import TEMP_PREFIX, OutputError
from lwface_desktop.core.recording import (
    FREE_CHECK_FRAMES,
    MAX_GAP_S,
    RATE_WINDOW_S,
    DeliveryRate,
    Recorder,
    recording_rate,
)
from lwface_desktop.core.sources import FrameSource
from tests.conftest import CLIP_FRAMES_PER_PHOTO


def read_video(path) -> tuple[list[np.ndarray], float]:
    """Every frame of path (RGB) and the frame rate it says."""
    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened(), f"{path} does not open as a video"
    frames = []
    while (frame := capture.read()[1]) is not None:
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    fps = capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    return frames, fps


def recorded(recorder: Recorder, frames) -> object:
    """frames, (rgb, index) pairs, through recorder on its own thread, then finished."""
    results: list = []

    def run():
        try:
            results.append(recorder.run())
        except Exception as e:  # raised again on the test's thread
            results.append(e)

    thread = threading.Thread(target=run)
    thread.start()
    for rgb, index in frames:
        recorder.add(rgb, index)
    recorder.finish()
    thread.join()
    [result] = results
    if isinstance(result, Exception):
        raise result
    return result


def clip_frames(clip) -> list[tuple[np.ndarray, int]]:
    with FrameSource(str(clip)) as source:
        frames = []
        while (image := source.read()) is not None:
            frames.append((image, len(frames)))
    return frames


def recorder(folder, **options) -> Recorder:
    return Recorder(folder, 15.0, "take", queue_frames=10_000, **options)  # a test never drops a frame


def test_every_frame_of_a_clip_is_recorded_at_its_frame_rate(clip, tmp_path):
    frames = clip_frames(clip)
    result = recorded(recorder(tmp_path), frames)
    assert result.paths == [tmp_path / "take.mp4"] and result.frames == len(frames) and result.problem is None
    written, fps = read_video(tmp_path / "take.mp4")
    assert len(written) == len(frames) == 4 * CLIP_FRAMES_PER_PHOTO and fps == 15
    for (original, _), again in zip(frames[::CLIP_FRAMES_PER_PHOTO], written[::CLIP_FRAMES_PER_PHOTO], strict=True):
        assert np.abs(again.astype(int) - original).mean() < 8  # the same pictures, in order (lossy)
    assert os.listdir(tmp_path) == ["take.mp4"]  # no temporary file left


def test_a_frame_stands_for_the_source_frames_up_to_the_next(clip, tmp_path):
    """A detector that kept frames 0, 3 and 7 of the source: the video is still 8 frames
    long (the right length at the source's rate), each frame shown until the next."""
    frames = clip_frames(clip)
    result = recorded(recorder(tmp_path), [frames[0], frames[3], frames[7]])
    written, _ = read_video(result.paths[0])
    assert result.frames == len(written) == 8


def test_a_long_gap_is_cut_not_filled_with_a_frozen_frame(clip, tmp_path):
    (first, _), (second, _) = clip_frames(clip)[:2]
    result = recorded(recorder(tmp_path), [(first, 5), (second, 6), (first, 100_000)])  # a reconnect, say
    assert result.frames == len(read_video(result.paths[0])[0]) == 3


def test_frames_of_another_size_are_resized_to_the_first(clip, tmp_path):
    (image, _), = clip_frames(clip)[:1]
    small = cv2.resize(image, (321, 241))  # odd sides: mp4v wants even ones
    result = recorded(recorder(tmp_path), [(small, 0), (image, 1)])
    written, _ = read_video(result.paths[0])
    assert [frame.shape for frame in written] == [(240, 320, 3)] * 2


def test_an_encoder_that_falls_behind_drops_frames_and_add_never_waits(clip, tmp_path):
    frames = clip_frames(clip)[:10]
    slow = Recorder(tmp_path, 15.0, "take", queue_frames=3)
    for rgb, index in frames:  # nothing encodes yet: the queue fills
        slow.add(rgb, index)
    assert slow.result.dropped == 7
    result = recorded(slow, [])
    assert result.frames == len(read_video(result.paths[0])[0]) == 3


def test_long_recordings_are_cut_into_parts_each_complete(clip, tmp_path):
    frames = clip_frames(clip)[:12]
    result = recorded(recorder(tmp_path, segment_s=5 / 15), frames)  # 5 frames a part
    assert result.paths == [tmp_path / "take.mp4", tmp_path / "take-2.mp4", tmp_path / "take-3.mp4"]
    assert [len(read_video(path)[0]) for path in result.paths] == [5, 5, 2]


def test_an_existing_file_is_never_replaced(clip, tmp_path):
    (tmp_path / "take.mp4").write_bytes(b"the user's own video")
    result = recorded(recorder(tmp_path), clip_frames(clip)[:3])
    assert result.paths == [tmp_path / "take-2.mp4"]
    assert (tmp_path / "take.mp4").read_bytes() == b"the user's own video"


def test_nothing_recorded_leaves_no_file(tmp_path):
    result = recorded(recorder(tmp_path), [])
    assert result.paths == [] and result.frames == 0 and os.listdir(tmp_path) == []


def test_a_folder_that_cannot_be_made_is_said_in_words(tmp_path):
    (tmp_path / "Videos").write_text("a file where the folder should be")
    with pytest.raises(OutputError, match=r"Could not create the folder .*Videos/lwface-desktop for the recording"):
        recorded(recorder(tmp_path / "Videos" / "lwface-desktop"), [])


def test_a_disk_almost_full_stops_the_recording_and_keeps_it(clip, tmp_path):
    frames = clip_frames(clip)
    result = recorded(recorder(tmp_path, min_free_bytes=1 << 62), frames)  # no disk has that much free
    assert result.frames == FREE_CHECK_FRAMES < len(frames)
    assert "almost full" in result.problem and "what was recorded is kept" in result.problem
    assert len(read_video(result.paths[0])[0]) == FREE_CHECK_FRAMES


KILLED_SCRIPT = """
import sys, threading, cv2
from lwface_desktop.core.recording import Recorder
written = threading.Event()

class Watched(Recorder):  # says when the 13th frame is written: it asks for the next one then
    def _next_frame(self):
        if self.result.frames >= 13:
            written.set()
        return super()._next_frame()

recorder = Watched(sys.argv[1], 15.0, "take", segment_s=10 / 15, queue_frames=1000)
threading.Thread(target=recorder.run, daemon=True).start()
frame = cv2.cvtColor(cv2.imread(sys.argv[2]), cv2.COLOR_BGR2RGB)
for index in range(13):  # a part of 10 frames, and 3 of the next
    recorder.add(frame, index)
written.wait()
print("second part begun", flush=True)
threading.Event().wait()  # killed here, the second part half written
"""


def test_a_kill_9_loses_only_the_part_being_written(tmp_path, photos):
    """No MP4 survives a kill -9 half written (its index is written last): the parts before it do."""
    folder, repository = tmp_path / "recordings", str(Path(__file__).resolve().parents[2])
    app = subprocess.Popen([sys.executable, "-c", KILLED_SCRIPT, str(folder), str(photos["astronaut"])],
                           stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": repository})
    try:
        assert app.stdout.readline() == "second part begun\n"
    finally:
        app.kill()
        app.wait()
    assert len(read_video(folder / "take.mp4")[0]) == 10
    names = os.listdir(folder)
    hidden = [name for name in names if name.startswith(TEMP_PREFIX)]
    assert sorted(names) == sorted(["take.mp4", *hidden]) and len(hidden) == 1  # the half-written part
    assert not cv2.VideoCapture(str(folder / hidden[0])).isOpened()  # is lost: no MP4 index yet


def delivered(rate: DeliveryRate, fps: float, seconds: float, first: int = 0, start: float = 0.0,
              every: int = 1) -> tuple[int, float]:
    """Frames first, first + every, … of a source sending fps frames a second, seen for seconds
    from start (every > 1: a slow detector takes one frame in every): the next frame number and time."""
    index = first
    while index - first < round(fps * seconds):
        rate.add(index, start + (index - first) / fps)
        index += every
    return index, start + (index - first) / fps


def test_a_live_source_slower_than_it_says_is_recorded_at_the_rate_it_delivers():
    """A V4L2 camera that reports 30 but sends 15 in low light: recorded at 30, the video
    would play twice too fast."""
    rate = DeliveryRate()
    delivered(rate, 15, 2.0, every=3)
    assert rate.rate == pytest.approx(15) and recording_rate(30.0, rate.rate, live=True) == 15.0
    assert recording_rate(30.0, 25.0, live=True) == 30.0     # 17% off: noise
    assert recording_rate(30.0, 23.5, live=True) == 23.5     # 22% off: clearly not 30
    assert recording_rate(30.0, 36.5, live=True) == 36.5     # faster than it says, clearly
    assert recording_rate(30.0, 14.96, live=True) == 15.0    # to a tenth
    assert recording_rate(30.0, 15.0, live=False) == 30.0    # a video file's rate is exact
    assert recording_rate(None, 12.0, live=False) == 12.0    # one that says none: as measured
    assert recording_rate(None, None, live=True) == 30.0     # nothing known yet


def test_the_delivery_rate_is_trusted_only_once_enough_frames_span_a_second():
    rate = DeliveryRate()
    delivered(rate, 15, 0.9)
    assert rate.rate is None and recording_rate(30.0, rate.rate, live=True) == 30.0  # Record too soon: as reported
    rate = DeliveryRate()
    delivered(rate, 5, 1.6)  # 8 frames in 1.6 s: too few to tell
    assert rate.rate is None


def test_the_delivery_rate_follows_the_last_seconds_and_skips_a_reconnect():
    rate = DeliveryRate()
    index, now = delivered(rate, 30, 10.0)
    index, now = delivered(rate, 15, RATE_WINDOW_S, index, now)  # the light goes down
    assert rate.rate == pytest.approx(15, rel=0.05)
    index, now = delivered(rate, 15, 0.5, index, now + MAX_GAP_S + 1)  # a reconnect: a pause, numbers go on
    assert rate.rate is None  # measured again from the reconnect on
    delivered(rate, 15, 2.0, index, now)
    assert rate.rate == pytest.approx(15)
