"""Frames from video files, the latest-frame slot, and the `video` pipeline."""

import threading

import cv2
import numpy as np
import pytest
from skimage import data

from lwface_desktop.core.pipeline import process_frame, run_video
from lwface_desktop.core.sources import FrameSource, LatestFrame, SourceError
from tests.conftest import CLIP_FRAMES_PER_PHOTO, COCO_NAMES, WEIGHTS, needs_weights, open_files, temporaries


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
    from lwface_desktop.core.sources import Frame

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


@pytest.fixture(scope="module")
def random_detector(random_weights):
    """The pipeline's mechanics on a real network: 300 boxes a frame (random weights score
    everything alike), 5 kept, so that drawing is exercised."""
    from lwface_desktop.core.yolo.detector import YoloDetector

    return YoloDetector(random_weights, img_size=320, precision="fp32", max_detections=5)


def test_video_processes_every_frame_in_order_into_a_same_size_video(clip, random_detector, tmp_path):
    seen = []
    out = tmp_path / "out.mp4"
    stats = run_video(FrameSource(str(clip)), random_detector, out, lambda i, dets: seen.append((i, dets)))
    assert [i for i, _ in seen] == list(range(4 * CLIP_FRAMES_PER_PHOTO)) and stats.frames == len(seen)
    assert all(len(dets) == 5 and {d.label for d in dets} <= set(COCO_NAMES) for _, dets in seen)
    assert all(0 <= d.x1 < d.x2 <= 640 and 0 <= d.y1 < d.y2 <= 480 for _, dets in seen for d in dets)
    written = cv2.VideoCapture(str(out))
    assert written.get(cv2.CAP_PROP_FRAME_COUNT) == len(seen) and written.get(cv2.CAP_PROP_FPS) == 15.0
    assert (written.get(cv2.CAP_PROP_FRAME_WIDTH), written.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (640, 480)
    ok, first = written.read()
    written.release()
    with FrameSource(str(clip)) as source:
        plain = source.read()[..., ::-1]  # BGR, as the written frame is read back
    assert ok and first.shape == plain.shape
    boxed = np.abs(first.astype(int) - plain).max(axis=2) > 60  # what drawing changed (beyond codec noise)
    assert boxed.sum() > 500 and (first[boxed][:, 2] > 200).mean() > 0.5  # red boxes drawn (BGR)
    assert str(clip) not in open_files() and temporaries(tmp_path) == []


@needs_weights
def test_video_finds_what_the_official_model_finds_in_each_photo(clip, detector):
    seen = []
    run_video(FrameSource(str(clip)), detector, None, lambda i, dets: seen.append({d.label for d in dets}))
    assert len(seen) == 4 * CLIP_FRAMES_PER_PHOTO
    assert "person" in seen[0] and "cup" in seen[CLIP_FRAMES_PER_PHOTO]
    assert "cat" in seen[2 * CLIP_FRAMES_PER_PHOTO]


def test_process_frame_matches_the_detector(clip, random_detector):
    with FrameSource(str(clip)) as source:
        frame = source.read()
    original = frame.copy()
    annotated, detections, kept, timings = process_frame(frame, random_detector)
    assert kept == []  # no track, nothing kept
    assert len(detections) == 5 and detections == random_detector.detect(frame)
    assert annotated.shape == frame.shape and (annotated != frame).any()
    assert (frame == original).all()  # drawn on a copy
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


class NoDetections:
    """The pipeline's mechanics without a model."""

    label = "object"
    decode_side = None

    def detect(self, image):
        return []


def test_sources_that_are_not_regular_files_are_refused_without_blocking(tmp_path):
    import os

    fifo = tmp_path / "camera.mp4"
    os.mkfifo(fifo)
    (tmp_path / "folder.avi").mkdir()
    loop = tmp_path / "loop.avi"
    loop.symlink_to(loop)
    expected = {
        fifo: "camera.mp4 is not a regular file (a named pipe); only video files can be opened.",
        tmp_path / "folder.avi": "folder.avi is a folder, not a video file.",
        loop: "loop.avi is a symbolic link that leads back to itself (a link loop), so there is no file to read.",
    }
    for path, words in expected.items():
        with pytest.raises(SourceError) as caught:
            FrameSource(str(path))
        assert str(caught.value) == words
    with pytest.raises(SourceError, match="not a regular file \\(a character device\\)"):
        FrameSource("/dev/zero")


def test_file_urls_are_local_files(clip):
    from lwface_desktop.core.sources import parse_source

    assert parse_source(f"file://{clip}") == str(clip) and parse_source(" 2 ") == 2
    with FrameSource(f"file://{clip}") as source:
        assert source.size == (640, 480) and not source.is_live


class FakeCapture:
    """A capture whose header says 640 x 480 but whose second frame is 5000 x 4000."""

    def __init__(self, *args):
        self.frames = [np.zeros((480, 640, 3), np.uint8), np.zeros((4000, 5000, 3), np.uint8)]

    def isOpened(self):
        return True

    def get(self, prop):
        return {cv2.CAP_PROP_FPS: 15.0, cv2.CAP_PROP_FRAME_COUNT: 2.0,
                cv2.CAP_PROP_FRAME_WIDTH: 640.0, cv2.CAP_PROP_FRAME_HEIGHT: 480.0}.get(prop, 0.0)

    def read(self):
        return (True, self.frames.pop(0)) if self.frames else (False, None)

    def release(self):
        pass


def test_a_frame_larger_than_the_header_said_is_refused(clip, tmp_path, monkeypatch):
    monkeypatch.setattr(cv2, "VideoCapture", FakeCapture)
    source = FrameSource(str(clip))
    assert source.read().shape == (480, 640, 3)
    assert source.read() is None and source.read() is None
    assert source.error == ("clip.avi has frames of 5000 × 4000 pixels; the largest supported video frame "
                            "is 4096 × 4096 pixels (16.8 megapixels).")
    out = tmp_path / "out.avi"
    with pytest.raises(SourceError, match="5000 × 4000 pixels"):
        run_video(FrameSource(str(clip)), NoDetections(), out)
    assert not out.exists() and temporaries(tmp_path) == []


def test_stopping_finishes_a_playable_video_of_the_frames_so_far(clip, tmp_path):
    stop = threading.Event()
    seen = []

    def on_frame(index, detections):
        seen.append(index)
        if index == 5:
            stop.set()  # what the `video` command's SIGTERM handler does

    out = tmp_path / "out.avi"
    stats = run_video(FrameSource(str(clip)), NoDetections(), out, on_frame, stop=stop)
    assert 6 <= stats.frames == len(seen) < 4 * CLIP_FRAMES_PER_PHOTO
    written = cv2.VideoCapture(str(out))
    assert written.get(cv2.CAP_PROP_FRAME_COUNT) == stats.frames and written.read()[0]
    written.release()
    assert temporaries(tmp_path) == [] and str(clip) not in open_files()


def test_stopped_before_the_first_frame_writes_nothing(clip, tmp_path):
    stop = threading.Event()
    stop.set()
    stats = run_video(FrameSource(str(clip)), NoDetections(), tmp_path / "out.avi", stop=stop)
    assert stats.frames == 0 and list(tmp_path.iterdir()) == []


def test_a_failure_leaves_no_video_and_no_temporary(clip, tmp_path):
    class Broken:
        def detect(self, image):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        run_video(FrameSource(str(clip)), Broken(), tmp_path / "out.avi")
    assert list(tmp_path.iterdir()) == []


def test_an_existing_output_is_replaced_only_when_asked(clip, tmp_path):
    from lwface_desktop.core.outputs import OutputError

    out = tmp_path / "out.avi"
    out.write_bytes(b"the user's video")
    with pytest.raises(OutputError, match="out.avi already exists"):
        run_video(FrameSource(str(clip)), NoDetections(), out)
    assert out.read_bytes() == b"the user's video" and str(clip) not in open_files()
    stats = run_video(FrameSource(str(clip)), NoDetections(), out, overwrite=True)
    assert cv2.VideoCapture(str(out)).get(cv2.CAP_PROP_FRAME_COUNT) == stats.frames == 4 * CLIP_FRAMES_PER_PHOTO
    assert temporaries(tmp_path) == []


def test_a_bad_output_name_is_said_before_anything_is_written(clip, tmp_path):
    with pytest.raises(SourceError, match=r"out.gif: choose a name ending in .mp4, .avi, .mkv, .webm"):
        run_video(FrameSource(str(clip)), NoDetections(), tmp_path / "out.gif")
    assert list(tmp_path.iterdir()) == [] and str(clip) not in open_files()


def test_a_reader_that_fails_ends_the_live_slot_with_a_message(clip):
    """A decoder error in the live tab's reader thread must reach the tab, not freeze it."""
    import threading

    from lwface_desktop.core.pipeline import capture_latest

    class Failing(FrameSource):
        def read(self):
            raise MemoryError("no memory for the next frame")

    source, slot = Failing(str(clip)), LatestFrame()
    try:
        capture_latest(source, slot, threading.Event())
    finally:
        source.release()
    assert slot.ended and slot.error == "Reading clip.avi failed: no memory for the next frame."


class DropsFaces:
    """YuNet's real detections, but none on the frames listed: a detector missing a face."""

    label = "face"
    decode_side = None

    def __init__(self, missed: range):
        from lwface_desktop.core.yunet import default_yunet

        self.faces, self.missed, self.calls = default_yunet(), missed, 0

    def detect(self, image):
        self.calls += 1  # run_video detects frames in order, on one thread
        return [] if self.calls - 1 in self.missed else self.faces.detect(image)


def fine_detail(image):
    """What is left after a small blur: the detail that makes a face recognisable."""
    grey = image.astype(float).mean(axis=2)
    return grey - cv2.GaussianBlur(grey, (0, 0), 2)


def test_a_face_the_detector_misses_for_a_few_frames_stays_hidden(clip, tmp_path):
    from lwface_desktop.core.anonymise import KEEP_FRAMES

    missed = range(3, CLIP_FRAMES_PER_PHOTO)  # the astronaut's frames from the fourth on: 12 in a row
    seen = {}
    out = tmp_path / "hidden.avi"
    run_video(FrameSource(str(clip)), DropsFaces(missed), out, lambda i, dets: seen.setdefault(i, dets), hide="blur")
    assert [len(seen[i]) for i in range(CLIP_FRAMES_PER_PHOTO)] == [1, 1, 1] + [0] * len(missed)  # as detected
    x1, y1, x2, y2 = (round(v) for v in seen[0][0].box)
    with FrameSource(str(clip)) as source:
        detail = fine_detail(source.read())[y1:y2, x1:x2].var()
    written = cv2.VideoCapture(str(out))
    left = [fine_detail(written.read()[1])[y1:y2, x1:x2].var() / detail for _ in range(CLIP_FRAMES_PER_PHOTO)]
    written.release()
    hidden_for = 3 + KEEP_FRAMES  # its last box is kept for KEEP_FRAMES missed frames
    assert max(left[:hidden_for]) < 0.05  # blurred while detected, and while kept
    assert min(left[hidden_for:]) > 0.7  # then shown again: the track is short, and the check can tell


def test_an_unknown_hide_mode_is_refused_and_the_source_released(clip, tmp_path):
    with pytest.raises(ValueError, match="off, blur, pixelate, box"):
        run_video(FrameSource(str(clip)), NoDetections(), tmp_path / "out.avi", hide="smudge")
    assert list(tmp_path.iterdir()) == [] and str(clip) not in open_files()
