"""Record in the live tab: what is shown goes to an MP4 that opens again, whatever ends it
(Record again, the video's end, the window closing), and a folder that cannot be written is
said in words while the live view goes on. Faces (YuNet, bundled) on real clips."""

import os
import queue
import signal
import threading

import cv2
import pytest
from PySide6.QtCore import Qt
from skimage import data

from lwface_desktop.core.outputs import TEMP_PREFIX
from lwface_desktop.core.recording import MAX_GAP_S
from lwface_desktop.core.sources import SourceError, describe_source
from lwface_desktop.gui import camera_worker
from lwface_desktop.gui import main_window as main_window_module
from lwface_desktop.gui import recorder as recorder_module
from lwface_desktop.gui.camera_tab import RUNNING
from lwface_desktop.gui.recorder import duration_text
from tests.core.test_recording import read_video
from tests.gui.conftest import SETTLE_MS, record_frames, signal_once_ready

TIMEOUT = 20_000


@pytest.fixture
def camera(faces_camera):
    return faces_camera


def start_recordable(qtbot, camera, source) -> None:
    camera.set_source(str(source))
    assert not camera.recording.button.isEnabled()  # nothing to record yet
    camera.start()
    qtbot.waitUntil(camera.recording.button.isEnabled, timeout=TIMEOUT)  # from the first frame


def red_pixels(rgb) -> int:
    return int(((rgb[..., 0] > 180) & (rgb[..., 1] < 80) & (rgb[..., 2] < 80)).sum())


def only_file(folder):
    names = os.listdir(folder)
    assert len(names) == 1 and not names[0].startswith(TEMP_PREFIX), names  # no temporary file left
    return folder / names[0]


def test_record_and_stop_write_what_was_shown_at_the_source_s_frame_rate(qtbot, camera, astronaut_clip, videos,
                                                                        monkeypatch):
    frames = record_frames(monkeypatch)
    start_recordable(qtbot, camera, astronaut_clip)
    qtbot.keyClick(camera, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert camera.recording.is_recording() and camera.recording.button.text() == "Stop recording"
    assert camera.recording.elapsed.isVisible() and camera.recording.elapsed.text().startswith("● Recording 0:0")
    first = len(frames)
    qtbot.waitUntil(lambda: len(frames) >= first + 10, timeout=TIMEOUT)
    with qtbot.waitSignal(camera.recording.saved, timeout=TIMEOUT) as saved:
        qtbot.keyClick(camera, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
        shown = frames[first:]
    result = saved.args[0]
    assert not camera.recording.elapsed.isVisible()
    qtbot.waitUntil(lambda: camera.recording.button.text() == "Record", timeout=TIMEOUT)  # "Saving…" till its end
    path = only_file(videos)
    assert result.paths == [path] and path.name.startswith("recording-") and path.suffix == ".mp4"
    written, fps = read_video(path)
    assert fps == 15 and len(written) == result.frames  # the clip's rate: it plays at the right speed
    # Every source frame from the second shown to the last is there: the frames shown, and repeats
    # of them for those the detector skipped. (The first may have been drawn as Record was
    # clicked, and not recorded; one more may be recorded as Record is clicked again.)
    span = shown[-1][2]["index"] - shown[1][2]["index"] + 1
    assert span <= result.frames + result.dropped and result.frames <= span + 2 * MAX_GAP_S * 15
    assert written[0].shape == (480, 640, 3)  # the camera's resolution, not the view's
    assert red_pixels(written[0]) > 200  # the astronaut's face, boxed as shown
    assert camera.window().statusBar().currentMessage() == f"Recording saved: {path} ({duration_text(result.seconds)})"
    assert camera.state() == RUNNING  # the camera goes on


def test_the_video_s_end_completes_the_recording(qtbot, camera, clip, videos):
    start_recordable(qtbot, camera, clip)
    camera.recording.start()
    with qtbot.waitSignal(camera.recording.saved, timeout=TIMEOUT) as saved:
        pass  # the 4 s clip ends: the camera stops, and with it the recording
    written, _ = read_video(only_file(videos))
    assert 0 < len(written) == saved.args[0].frames
    assert camera.message.text() == "The video clip.avi ended." and not camera.recording.button.isEnabled()


def test_closing_the_window_while_recording_leaves_a_complete_file(qtbot, window, astronaut_clip, videos,
                                                                  monkeypatch):
    monkeypatch.setattr(main_window_module, "CLOSE_WAIT_MS", 10 * SETTLE_MS)  # however slow the machine
    frames = record_frames(monkeypatch)
    window.camera_tab.set_kind("yunet")
    window.start_camera(str(astronaut_clip))
    qtbot.waitUntil(window.camera_tab.recording.button.isEnabled, timeout=TIMEOUT)
    window.camera_tab.recording.start()
    first = len(frames)
    qtbot.waitUntil(lambda: len(frames) >= first + 5, timeout=TIMEOUT)
    window.close()  # awaits the recording's thread: the file is complete when this returns
    written, fps = read_video(only_file(videos))
    assert len(written) >= 5 and fps == 15 and red_pixels(written[0]) > 200


def test_a_folder_that_cannot_be_written_is_said_and_the_live_view_goes_on(qtbot, camera, astronaut_clip, tmp_path,
                                                                          monkeypatch):
    (tmp_path / "Videos").write_text("a file where the folder should be")
    monkeypatch.setattr(recorder_module, "recording_folder", lambda: tmp_path / "Videos" / "lwface-desktop")
    frames = record_frames(monkeypatch)
    start_recordable(qtbot, camera, astronaut_clip)
    camera.recording.start()
    qtbot.waitUntil(lambda: camera.message.isVisible(), timeout=TIMEOUT)
    assert "Could not create the folder" in camera.message.text() and "for the recording" in camera.message.text()
    qtbot.waitUntil(lambda: camera.recording.button.text() == "Record" and camera.recording.button.isEnabled(),
                    timeout=TIMEOUT)
    seen = len(frames)
    qtbot.waitUntil(lambda: len(frames) >= seen + 3, timeout=TIMEOUT)  # the live view goes on
    assert camera.state() == RUNNING and camera.worker.recorder is None


class SlowStream:
    """A live source (what FrameSource gives in its place) that reports 30 frames a second but
    sends a frame only when the test calls send(n): frame n, seen n / 15 s after the first by the
    worker's clock. Driven so, the rate it delivers is 15 however fast the machine is."""

    def __init__(self, monkeypatch):
        self.frames: queue.Queue = queue.Queue()
        self.now = 0.0
        self.gone = threading.Event()
        self.image = cv2.resize(data.astronaut(), (320, 240))
        stream = self

        class Source:
            fps, fps_reported, is_live, error = 30.0, True, True, None

            def __init__(self, source):
                if stream.gone.is_set():
                    raise SourceError("not there any more")
                self.name = describe_source(source)

            def read(self):
                return None if stream.gone.is_set() else stream.frames.get()  # None: unplugged

            def release(self):
                pass

        monkeypatch.setattr(camera_worker, "FrameSource", Source)
        monkeypatch.setattr(camera_worker.CameraWorker, "clock", staticmethod(lambda: self.now))

    def send(self, index: int) -> None:
        self.now = index / 15
        self.frames.put(self.image)

    def unplug(self) -> None:
        self.gone.set()
        self.frames.put(None)


@pytest.fixture
def slow_stream(monkeypatch):
    return SlowStream(monkeypatch)


def test_a_live_source_slower_than_it_says_is_recorded_at_the_rate_it_delivers(qtbot, camera, videos, monkeypatch,
                                                                              slow_stream):
    """It reports 30 and sends 15 (a camera in low light): a video at 30 would play twice too fast."""
    frames = record_frames(monkeypatch)

    def send(index: int) -> None:  # one frame, and wait until it was shown: none is dropped
        slow_stream.send(index)
        qtbot.waitUntil(lambda: bool(frames) and frames[-1][2]["index"] == index, timeout=TIMEOUT)

    camera.set_source("rtsp://camera.example/live")
    camera.start()
    try:
        for index in range(30):  # 2 s of it, since Start
            send(index)
        camera.recording.start()
        for index in range(30, 45):
            send(index)
        with qtbot.waitSignal(camera.recording.saved, timeout=TIMEOUT) as saved:
            camera.recording.stop()
    finally:  # before the window closes: its capture thread waits in read()
        camera.stop()
        slow_stream.unplug()
    result = saved.args[0]
    written, fps = read_video(only_file(videos))
    assert result.fps == fps == 15 and len(written) == result.frames >= 15  # it plays at the speed it was seen


# The app in a child process: once the camera runs it records, and says "recording" on stdout
# when some frames have gone to the recorder.
RECORDING_SCRIPT = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from lwface_desktop.cli import main
from lwface_desktop.gui.app import create_app
from lwface_desktop.gui.main_window import MainWindow

def record():
    [window] = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
    tab = window.camera_tab
    tab.set_kind("yunet")
    def on_frame(*_):
        if not tab.recording.is_recording() and tab.recording.button.isEnabled():
            tab.recording.start()
        elif tab.recording.is_recording() and tab.worker.recorder.result.frames >= 5:
            print("recording", flush=True)
            tab.worker.frame_ready.disconnect(on_frame)
    tab.status.connect(lambda text: text.startswith("Live:") and tab.worker.frame_ready.connect(on_frame))

create_app()
QTimer.singleShot(0, record)  # runs first in the loop: before the camera starts
sys.exit(main(["--source", sys.argv[1]]))
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl+C"])
def test_a_signal_while_recording_leaves_a_complete_file(astronaut_clip, tmp_path, sig):
    """Ctrl+C and SIGTERM close the window, and closing completes the recording (what a kill -9
    loses is in tests/core/test_recording.py)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path),
           "XDG_VIDEOS_DIR": str(tmp_path / "Videos")}
    signal_once_ready(RECORDING_SCRIPT, [str(astronaut_clip)], env, "recording", sig)
    [path] = (tmp_path / "Videos" / "lwface-desktop").iterdir()
    written, fps = read_video(path)
    assert len(written) >= 5 and fps == 15 and path.name.startswith("recording-")
