"""The live camera tab, driven by a video file (no webcam exists on these machines)."""

import os
import signal
import subprocess
import sys
import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from lwface_desktop.core.detectors import Detectors
from lwface_desktop.gui.camera_worker import CameraWorker
from tests.conftest import WEIGHTS, needs_weights, open_files

TIMEOUT = 20_000
pytestmark = needs_weights  # the live tab runs YOLOv5
OPTIONS = {"img_size": 320, "conf": 0.25, "people_only": False}


@pytest.fixture
def camera(window):
    window.detectors.weights = str(WEIGHTS)
    window.tabs.setCurrentWidget(window.camera_tab)
    return window.camera_tab


def is_red(image: QImage, x: int, y: int) -> bool:
    c = image.pixelColor(x, y)
    return c.red() > 200 and c.green() < 60 and c.blue() < 60


def test_frames_arrive_annotated_with_the_detections(qtbot, camera, clip):
    camera.set_source(str(clip))
    with qtbot.waitSignal(camera.status, check_params_cb=lambda t: t.startswith("Live:"), timeout=TIMEOUT):
        camera.start()
    with qtbot.waitSignal(camera.worker.frame_ready, timeout=TIMEOUT) as frame:
        pass
    image, detections, stats = frame.args
    assert image.width() == 640 and image.height() == 480
    assert detections[0].label == "person"  # the first frames are the astronaut
    x1, y1, x2, y2 = (round(v) for v in detections[0].box)
    assert is_red(image, x1 + 1, (y1 + y2) // 2)
    assert set(stats) >= {"fps", "capture", "inference", "drawing", "dropped"}
    qtbot.waitUntil(lambda: "fps" in camera.stats.text() and "inference" in camera.stats.text(), timeout=TIMEOUT)
    assert camera.toggle.text() == "Stop"


def test_stop_is_prompt_and_releases_the_video(qtbot, camera, clip):
    camera.set_source(str(clip))
    camera.start()
    qtbot.waitUntil(lambda: camera.last_frame is not None, timeout=TIMEOUT)
    worker = camera.worker
    start = time.perf_counter()
    camera.stop()
    assert time.perf_counter() - start < 1.0
    assert worker.isFinished() and camera.toggle.text() == "Start" and not camera.is_running()
    assert str(clip) not in open_files()


def test_space_toggles(qtbot, camera, clip):
    camera.set_source(str(clip))
    qtbot.keyClick(camera, Qt.Key.Key_Space)
    assert camera.is_running()
    qtbot.keyClick(camera, Qt.Key.Key_Space)
    assert not camera.is_running()


@pytest.mark.parametrize("source, words", [
    ("7", "Camera 7 could not be opened"),
    ("/no/such/clip.avi", "was not found"),
])
def test_a_source_that_fails_shows_why_and_returns_to_start(qtbot, camera, source, words):
    camera.set_source(source)
    with qtbot.waitSignal(camera.running_changed, check_params_cb=lambda running: not running, timeout=TIMEOUT):
        camera.start()
    assert words in camera.message.text() and camera.message.isVisible()
    assert camera.toggle.text() == "Start"


def test_a_model_that_fails_to_load_is_reported(qtbot, camera, clip, bad_files):
    camera.detectors.weights = str(bad_files["notes.jpg"])
    camera.set_source(str(clip))
    with qtbot.waitSignal(camera.running_changed, check_params_cb=lambda running: not running, timeout=TIMEOUT):
        camera.start()
    assert "notes.jpg is not a PyTorch model file" in camera.message.text()


def test_a_video_that_ends_says_so(qtbot, camera, clip):
    camera.set_source(str(clip))
    with qtbot.waitSignal(camera.running_changed, check_params_cb=lambda running: not running, timeout=TIMEOUT):
        camera.start()  # 60 frames at 15 fps: about 4 s
    assert camera.message.text() == "The video clip.avi ended." and camera.toggle.text() == "Start"
    assert str(clip) not in open_files()


def test_closing_the_window_while_running_stops_the_worker(qtbot, window, clip):
    window.detectors.weights = str(WEIGHTS)
    window.start_camera(str(clip))
    worker = window.camera_tab.worker
    qtbot.waitUntil(lambda: window.camera_tab.last_frame is not None, timeout=TIMEOUT)
    window.close()
    assert worker.isFinished() and str(clip) not in open_files()


def test_a_slow_consumer_gets_the_latest_frame_never_a_backlog(qtbot, clip):
    """The worker emits one frame, then waits for frame_consumed(); meanwhile newer frames
    replace each other in the slot, so the next frame emitted is the newest, not the next."""
    worker = CameraWorker(str(clip), Detectors(WEIGHTS), OPTIONS)
    frames = []
    worker.frame_ready.connect(lambda image, dets, stats: frames.append(stats))
    with qtbot.waitSignal(worker.frame_ready, timeout=TIMEOUT):
        worker.start()
    try:
        qtbot.waitUntil(lambda: worker.dropped >= 5, timeout=TIMEOUT)  # frames keep coming from the file
        assert len(frames) == 1  # nothing more was emitted while the view had not consumed
        worker.frame_consumed()
        qtbot.waitUntil(lambda: len(frames) == 2, timeout=TIMEOUT)
        assert frames[1]["index"] >= frames[0]["index"] + 5 and frames[1]["dropped"] >= 5
    finally:
        worker.requestInterruption()
        worker.frame_consumed()
        assert worker.wait(5000)


def os_threads() -> int:
    """Threads of this process as the OS sees them (Python keeps stale records of Qt's)."""
    return len(os.listdir("/proc/self/task"))


def test_fifty_quick_toggles_leave_nothing_behind(qtbot, camera, clip):
    threads_before = os_threads()
    camera.set_source(str(clip))
    for _ in range(50):
        camera.start()
        camera.stop()
    assert not camera.is_running() and camera.toggle.text() == "Start"
    assert os_threads() == threads_before
    assert str(clip) not in open_files()
    camera.start()  # still works after all that
    qtbot.waitUntil(lambda: camera.last_frame is not None, timeout=TIMEOUT)


def test_snapshot_saves_a_new_file_each_time(qtbot, camera, clip):
    camera.set_source(str(clip))
    camera.start()
    qtbot.waitUntil(lambda: camera.last_frame is not None, timeout=TIMEOUT)
    first, second = camera.snapshot(), camera.snapshot()
    assert first != second and first.exists() and second.exists()
    assert first.read_bytes()[:3] == b"\xff\xd8\xff" and first.parent.name == "lwface-desktop"
    assert camera.window().statusBar().currentMessage() == f"Snapshot saved: {second}"


def test_options_reach_the_running_worker(qtbot, camera, clip):
    camera.set_source(str(clip))
    camera.start()
    qtbot.waitUntil(lambda: camera.last_frame is not None, timeout=TIMEOUT)
    camera.size_choice.setCurrentIndex(camera.size_choice.findData(640))
    camera.class_choice.setCurrentIndex(1)  # people only
    assert camera.worker.options == {"img_size": 640, "conf": 0.25, "people_only": True}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl+C"])
def test_the_app_exits_cleanly_on_a_signal_while_the_camera_runs(clip, tmp_path, sig):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path)}
    app = subprocess.Popen([sys.executable, "-m", "lwface_desktop", "--weights", str(WEIGHTS),
                            "--source", str(clip)], env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    # Running means the capture has the clip open: watch the process's open files.
    while str(clip) not in _open_files_of(app.pid):
        assert app.poll() is None and time.monotonic() < deadline, "the camera did not start"
        time.sleep(0.05)
    app.send_signal(sig)
    _, stderr = app.communicate(timeout=15)
    assert app.returncode == 0 and "Traceback" not in stderr


def _open_files_of(pid: int) -> set[str]:
    found = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                found.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
            except OSError:
                pass
    except OSError:
        pass
    return found


def test_people_only_on_a_model_without_people_is_a_notice_not_a_stop(qtbot, camera, clip, tmp_path):
    from tests.checkpoints import architecture_of, random_network, save_checkpoint

    fruit = tmp_path / "fruit.pt"
    architecture = architecture_of(nc=3)
    save_checkpoint(random_network(architecture, [8, 16, 32]), fruit, architecture,
                    ["apple", "banana", "cherry"], [8, 16, 32])
    camera.detectors.weights = str(fruit)
    camera.set_source(str(clip))
    camera.start()
    qtbot.waitUntil(lambda: camera.last_frame is not None, timeout=TIMEOUT)
    camera.class_choice.setCurrentIndex(1)  # people only
    qtbot.waitUntil(camera.message.isVisible, timeout=TIMEOUT)
    assert "unknown class person" in camera.message.text() and camera.is_running()
