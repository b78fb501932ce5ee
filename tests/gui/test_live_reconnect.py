"""A camera that comes back: a real MJPEG stream over loopback HTTP that drops, refuses a few
tries, and returns; Stop during the wait; Loop for a video file. The backoff is shortened
(reconnect.RECONNECT_DELAYS_S) so no test waits 1 + 2 + 4 s; nothing sleeps."""

import cv2
import pytest
from skimage import data

from lwface_desktop.core import reconnect
from lwface_desktop.gui.camera_tab import IDLE, RUNNING
from tests.conftest import CLIP_FRAMES_PER_PHOTO
from tests.core.test_recording import read_video
from tests.gui.conftest import record_frames
from tests.gui.test_live_recording import only_file
from tests.mjpeg_server import MjpegServer

TIMEOUT = 20_000


@pytest.fixture
def camera(faces_camera):
    return faces_camera


@pytest.fixture
def stream():
    """The astronaut as a 320x240 MJPEG stream, 25 frames a second."""
    jpeg = cv2.imencode(".jpg", cv2.cvtColor(cv2.resize(data.astronaut(), (320, 240)), cv2.COLOR_RGB2BGR))[1]
    server = MjpegServer(jpeg.tobytes())
    yield server
    server.close()


def lose(stream: MjpegServer) -> None:
    """The camera goes away: the stream is cut and new connections are refused."""
    stream.refusing = True
    stream.drop()


def test_a_stream_that_drops_is_reopened_and_the_recording_goes_on(qtbot, camera, stream, videos,
                                                                   monkeypatch):
    monkeypatch.setattr(reconnect, "RECONNECT_DELAYS_S", (0.05, 0.1, 0.2))
    frames, said = record_frames(monkeypatch), []
    camera.status.connect(said.append)
    camera.set_source(stream.url)
    camera.start()
    qtbot.waitUntil(camera.recording.button.isEnabled, timeout=TIMEOUT)
    camera.recording.start()
    qtbot.waitUntil(lambda: len(frames) >= 5, timeout=TIMEOUT)
    lose(stream)
    qtbot.waitUntil(lambda: stream.refused >= 2, timeout=TIMEOUT)  # tried again, and again
    assert f"The stream {stream.url} stopped sending pictures. Reconnecting" in "\n".join(said)
    assert camera.state() == RUNNING and camera.recording.is_recording()
    before = len(frames)
    stream.refusing = False  # the camera is back
    qtbot.waitUntil(lambda: f"Reconnected: {stream.url}" in said, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: len(frames) >= before + 5, timeout=TIMEOUT)
    assert stream.served == 2 and not camera.message.isVisible()
    indices = [stats["index"] for _, _, stats, _ in frames]
    assert indices == sorted(indices) and len(set(indices)) == len(indices)  # frame numbers go on
    with qtbot.waitSignal(camera.recording.saved, timeout=TIMEOUT) as saved:
        camera.recording.stop()
    result = saved.args[0]
    written, _ = read_video(only_file(videos))  # one file across the reconnect
    assert len(written) == result.frames >= len(frames) - result.dropped - 5  # all but those before Record


def test_the_countdown_is_shown_and_stop_works_while_waiting(qtbot, camera, stream, monkeypatch, gui_waits):
    monkeypatch.setattr(reconnect, "RECONNECT_DELAYS_S", (3600,))  # an hour before the next try
    camera.set_source(stream.url)
    camera.start()
    qtbot.waitUntil(lambda: camera.last_frame is not None, timeout=TIMEOUT)
    lose(stream)
    qtbot.waitUntil(lambda: "Reconnecting in" in camera.message.text(), timeout=TIMEOUT)
    assert camera.message.text().endswith("Reconnecting in 3600 s…")
    qtbot.waitUntil(lambda: camera.message.text().endswith("Reconnecting in 3599 s…"), timeout=TIMEOUT)  # counts
    with gui_waits:
        camera.stop()
        qtbot.waitUntil(lambda: camera.state() == IDLE, timeout=TIMEOUT)  # not an hour
    assert gui_waits.calls == [] and stream.refused == 0
    assert camera.window().statusBar().currentMessage() == "Stopped."


def test_a_video_file_loops_when_loop_is_on(qtbot, camera, clip, monkeypatch):
    frames = record_frames(monkeypatch)
    camera.loop_check.setChecked(True)
    camera.set_source(str(clip))
    camera.start()
    length = 4 * CLIP_FRAMES_PER_PHOTO
    qtbot.waitUntil(lambda: bool(frames) and frames[-1][2]["index"] >= length + 5, timeout=2 * TIMEOUT)
    assert camera.state() == RUNNING and not camera.message.isVisible()  # it did not end
    # Turned off while it plays: the next end is the end.
    camera.loop_check.setChecked(False)
    with qtbot.waitSignal(camera.running_changed, check_params_cb=lambda running: not running, timeout=2 * TIMEOUT):
        pass
    assert camera.message.text() == "The video clip.avi ended."
