"""Frames from video files, the latest-frame slot, and the `video` pipeline."""

import threading

import cv2
import numpy as np
import pytest
from skimage import data

from lwface_desktop.core.pipeline import FrameSource, LatestFrame, SourceError, process_frame, run_video
from tests.conftest import CLIP_FRAMES_PER_PHOTO, WEIGHTS, needs_weights, open_files


def test_frames_come_out_rgb(clip):
    with FrameSource(str(clip)) as source:
        assert (source.fps, source.size, source.frame_count) == (15.0, (640, 480), 4 * CLIP_FRAMES_PER_PHOTO)
        assert not source.is_live
        frame = source.read()
    expected = cv2.resize(data.astronaut(), (640, 480)).astype(int)
    assert frame.shape == (480, 640, 3)
    assert np.abs(frame - expected).mean() < 6  # MJPG is lossy
    assert np.abs(frame[..., ::-1] - expected).mean() > 30  # BGR would be far off
    assert str(clip) not in open_files()


@pytest.mark.parametrize("source, words", [
    ("7", "Camera 7 could not be opened: it is not connected, or another program is using it."),
    ("/no/such/video.mp4", "The video file /no/such/video.mp4 was not found."),
])
def test_sources_that_cannot_open_say_why(source, words):
    with pytest.raises(SourceError) as caught:
        FrameSource(source)
    assert str(caught.value) == words


def test_a_file_that_is_not_a_video(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("not a video")
    with pytest.raises(SourceError, match="notes.mp4 could not be opened as a video"):
        FrameSource(str(path))


def test_latest_frame_keeps_only_the_newest():
    from lwface_desktop.core.pipeline import Frame

    slot = LatestFrame()
    for i in range(3):
        slot.put(Frame(i, np.zeros((1, 1, 3), np.uint8)))
    assert slot.take(0.1).index == 2 and slot.dropped == 2
    assert slot.take(0.01) is None and not slot.ended
    slot.end("Camera 0 stopped")
    assert slot.take(0.01) is None and slot.ended and slot.error == "Camera 0 stopped"


@pytest.fixture(scope="module")
def detector():
    if not WEIGHTS.is_file():
        pytest.skip(f"no official weights at {WEIGHTS}")
    from lwface_desktop.core.yolo.detector import YoloDetector

    return YoloDetector(WEIGHTS, img_size=320, precision="fp32")


@needs_weights
def test_video_processes_every_frame_in_order_into_a_same_size_video(clip, detector, tmp_path):
    seen = []
    out = tmp_path / "out.mp4"
    stats = run_video(FrameSource(str(clip)), detector, out, lambda i, dets: seen.append((i, dets)))
    assert [i for i, _ in seen] == list(range(4 * CLIP_FRAMES_PER_PHOTO)) and stats.frames == len(seen)
    labels = [{d.label for d in dets} for _, dets in seen]
    assert "person" in labels[0] and "cup" in labels[CLIP_FRAMES_PER_PHOTO] and "cat" in labels[2 * CLIP_FRAMES_PER_PHOTO]
    written = cv2.VideoCapture(str(out))
    assert written.get(cv2.CAP_PROP_FRAME_COUNT) == len(seen) and written.get(cv2.CAP_PROP_FPS) == 15.0
    assert (written.get(cv2.CAP_PROP_FRAME_WIDTH), written.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (640, 480)
    ok, first = written.read()
    written.release()
    assert ok and (first[..., 2] > 200).sum() > 500  # red boxes drawn (BGR)
    assert str(clip) not in open_files()


@needs_weights
def test_process_frame_matches_the_detector(clip, detector):
    with FrameSource(str(clip)) as source:
        frame = source.read()
    annotated, detections, timings = process_frame(frame, detector)
    assert detections == detector.detect(frame)
    assert annotated.shape == frame.shape and (annotated != frame).any()
    assert set(timings) == {"inference", "drawing"}


def test_a_failing_detector_stops_the_pipeline_without_hanging(clip):
    class Broken:
        def detect(self, image):
            raise RuntimeError("boom")

    done = threading.Event()
    failure = []

    def run():
        try:
            run_video(FrameSource(str(clip)), Broken())
        except RuntimeError as e:
            failure.append(e)
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(10) and str(failure[0]) == "boom"
    assert str(clip) not in open_files()
