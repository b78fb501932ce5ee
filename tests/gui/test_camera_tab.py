"""The live camera tab, driven by a video file (no webcam exists on these machines).

The mechanics (worker, latest frame, stop, faults, toggles, closing, signals) run in Objects
mode on a random-weight YOLOv5n checkpoint (tests/conftest.py: random_weights), so they need
nothing outside the repository; only the test that checks *what* is found needs the official
model. Faces mode (YuNet, bundled) has its own tests in test_live_faces.py.
No test compares times: "at once" means the GUI thread made no blocking call (gui_waits).
"""

import os
import signal
import socket
import threading
from dataclasses import replace

import pytest
from PIL import Image
from PySide6.QtGui import QImage

from lwface_desktop.core.detectors import Detectors
from lwface_desktop.core.palette import colour_of
from lwface_desktop.core.sources import describe_source
from lwface_desktop.gui import camera_tab as camera_tab_module
from lwface_desktop.gui import main_window as main_window_module
from lwface_desktop.gui import settings, workers
from lwface_desktop.gui.camera_tab import IDLE, RUNNING, STARTING, STOPPING
from lwface_desktop.gui.camera_worker import CameraWorker, LiveOptions
from lwface_desktop.gui.image_view import fit_size
from tests.conftest import WEIGHTS, needs_weights, open_files
from tests.gui.conftest import SETTLE_MS, record_frames, signal_once_ready

TIMEOUT = 20_000
OPTIONS = LiveOptions("yolov5", 320, settings.SCORE_DEFAULT)


@pytest.fixture
def camera(window, random_weights):
    """The live tab finding objects with random weights."""
    window.detectors.weights = str(random_weights)
    window.tabs.setCurrentWidget(window.camera_tab)
    window.camera_tab.set_kind("yolov5")
    return window.camera_tab


def start_and_wait_for_a_frame(qtbot, camera) -> None:
    camera.start()
    qtbot.waitUntil(lambda: camera.last_frame is not None, timeout=TIMEOUT)


def wait_until_nothing_runs(qtbot) -> None:
    qtbot.waitUntil(lambda: not workers.live_workers(), timeout=TIMEOUT)


def is_colour(image: QImage, x: int, y: int, colour: tuple[int, int, int]) -> bool:
    c = image.pixelColor(x, y)
    return all(abs(a - b) < 60 for a, b in zip((c.red(), c.green(), c.blue()), colour, strict=True))


def test_frames_arrive_with_their_figures(qtbot, camera, clip):
    camera.set_source(str(clip))
    with qtbot.waitSignal(camera.status, check_params_cb=lambda t: t.startswith("Live:"), timeout=TIMEOUT):
        camera.start()
    assert camera.state() == RUNNING and camera.toggle.text() == "Stop"
    with qtbot.waitSignal(camera.worker.frame_ready, timeout=TIMEOUT) as frame:
        pass
    image, _, stats, live = frame.args
    assert live.image.shape == (480, 640, 3)  # the full frame, for a snapshot
    # The picture comes at the size the view shows it: the GUI thread only paints it.
    assert (image.width(), image.height()) == fit_size(640, 480, *camera.view.device_size())
    assert set(stats) >= {"fps", "capture", "inference", "drawing", "dropped"}
    qtbot.waitUntil(lambda: "fps" in camera.stats.text() and "inference" in camera.stats.text(), timeout=TIMEOUT)


@needs_weights
def test_people_are_found_and_boxed(qtbot, camera, astronaut_clip, monkeypatch):
    camera.detectors.weights = str(WEIGHTS)
    frames = record_frames(monkeypatch)
    camera.set_source(str(astronaut_clip))  # every frame is the astronaut
    camera.start()
    qtbot.waitUntil(lambda: len(frames) > 0, timeout=TIMEOUT)
    image, detections, _, live = frames[0]
    assert detections[0].label == "person"
    x1, y1, x2, y2 = (round(v) for v in detections[0].box)
    annotated = live.drawn()  # the full frame as the worker drew it
    person = colour_of("person")  # the class's colour, as in photos
    assert is_colour(QImage(annotated.data, 640, 480, 640 * 3, QImage.Format.Format_RGB888), x1 + 1, (y1 + y2) // 2,
                     person)
    scale = image.width() / 640  # the shown picture is the same, scaled to the view
    assert any(is_colour(image, round(x1 * scale) + dx, round((y1 + y2) / 2 * scale), person) for dx in range(3))


def test_stop_only_asks_and_the_worker_s_end_cleans_up(qtbot, camera, clip, gui_waits):
    camera.set_source(str(clip))
    start_and_wait_for_a_frame(qtbot, camera)
    with gui_waits:
        camera.stop()
        assert camera.state() == STOPPING
        assert camera.toggle.text() == "Stopping…" and not camera.toggle.isEnabled()
        with qtbot.waitSignal(camera.running_changed, check_params_cb=lambda running: not running,
                              timeout=TIMEOUT):
            pass
    assert gui_waits.calls == []
    assert camera.toggle.text() == "Start" and camera.toggle.isEnabled() and not camera.toggle.isChecked()
    assert camera.worker is None and camera.state() == IDLE
    assert str(clip) not in open_files()
    wait_until_nothing_runs(qtbot)


def test_stop_during_the_model_load_returns_at_once_and_leaves_nothing_behind(
        qtbot, camera, clip, gate, gui_waits, monkeypatch):
    created = []
    monkeypatch.setattr(camera_tab_module, "CameraWorker",
                        lambda *args: created.append(args) or CameraWorker(*args))
    monkeypatch.setattr(camera.detectors, "get", gate.wrap(camera.detectors.get))
    camera.set_source(str(clip))
    with gui_waits:
        camera.start()
        qtbot.waitUntil(gate.entered.is_set, timeout=TIMEOUT)  # the model is loading now
        assert camera.state() == STARTING and camera.toggle.text() == "Stop"
        with qtbot.waitSignal(camera.running_changed, check_params_cb=lambda running: not running, timeout=0):
            camera.stop()
        assert camera.state() == IDLE and camera.toggle.text() == "Start" and camera.toggle.isEnabled()
        gate.open()
        wait_until_nothing_runs(qtbot)  # the load ends; its result is not used
    assert gui_waits.calls == []
    assert created == [] and camera.worker is None and camera.state() == IDLE
    assert str(clip) not in open_files()
    start_and_wait_for_a_frame(qtbot, camera)  # the next Start works (with the model kept)
    assert len(created) == 1


def search_is_running() -> bool:
    return "camera search" in [getattr(w, "name", None) for w in workers.live_workers()]


def test_a_camera_s_start_during_the_camera_search_starts_after_it(qtbot, make_window, random_weights, gate,
                                                                   monkeypatch):
    monkeypatch.setattr(camera_tab_module, "SEARCH_WAIT_MS", 10 * SETTLE_MS)  # a bound never reached here
    monkeypatch.setattr(camera_tab_module, "find_cameras", gate.wrap(lambda: []))
    searching_when_started = []
    monkeypatch.setattr(camera_tab_module, "CameraWorker",
                        lambda *args: searching_when_started.append(camera._probing) or CameraWorker(*args))
    window = make_window(str(random_weights))
    camera = window.camera_tab
    qtbot.waitUntil(gate.entered.is_set, timeout=TIMEOUT)  # the search holds the cameras now
    camera.set_source(7)
    with qtbot.waitSignal(camera.status, timeout=0) as starting:
        camera.start()
    assert starting.args == ["Starting camera 7 (looking for cameras)…"]
    # The model loads meanwhile; then only the search is left, and the camera waits for it.
    qtbot.waitUntil(lambda: [getattr(w, "name", None) for w in workers.live_workers()] == ["camera search"],
                    timeout=TIMEOUT)
    assert camera.state() == STARTING and camera.worker is None and camera.toggle.text() == "Stop"
    with qtbot.waitSignal(camera.running_changed, check_params_cb=lambda running: not running, timeout=TIMEOUT):
        gate.open()
    assert searching_when_started == [False]  # the worker came after the search, never beside it
    assert "Camera 7 could not be opened" in camera.message.text()


def test_a_camera_search_that_hangs_holds_a_camera_s_start_only_so_long(qtbot, make_window, random_weights, gate,
                                                                        monkeypatch):
    monkeypatch.setattr(camera_tab_module, "SEARCH_WAIT_MS", 0)  # stands for "the bound has passed"
    monkeypatch.setattr(camera_tab_module, "find_cameras", gate.wrap(lambda: []))
    window = make_window(str(random_weights))
    camera = window.camera_tab
    qtbot.waitUntil(gate.entered.is_set, timeout=TIMEOUT)  # the search hangs, and goes on hanging
    camera.set_source(7)
    with qtbot.waitSignal(camera.running_changed, check_params_cb=lambda running: not running, timeout=TIMEOUT):
        camera.start()  # the camera is tried anyway: here there is none
    assert "Camera 7 could not be opened" in camera.message.text() and search_is_running()
    gate.open()


@pytest.mark.parametrize("source", ["video", "url"])
def test_a_video_or_a_stream_never_waits_for_the_camera_search(qtbot, make_window, random_weights, clip, gate,
                                                               silent_stream, monkeypatch, source):
    monkeypatch.setattr(camera_tab_module, "SEARCH_WAIT_MS", 10 * SETTLE_MS)  # a bound never reached here
    monkeypatch.setattr(camera_tab_module, "find_cameras", gate.wrap(lambda: []))
    window = make_window(str(random_weights))
    camera = window.camera_tab
    qtbot.waitUntil(gate.entered.is_set, timeout=TIMEOUT)  # the search hangs until the end of the test
    url, connected = silent_stream
    camera.set_source(str(clip) if source == "video" else url)
    camera.start()
    if source == "video":
        qtbot.waitUntil(lambda: camera.last_frame is not None, timeout=TIMEOUT)
    else:
        qtbot.waitUntil(connected.is_set, timeout=TIMEOUT)  # the worker is opening the stream
    assert camera.state() == RUNNING and search_is_running()
    camera.stop()
    gate.open()


@pytest.fixture
def silent_stream():
    """A stream URL whose server accepts the connection and never sends a byte: opening it
    hangs until OpenCV's timeout, like a camera on a dead network."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    connected, held = threading.Event(), []

    def accept():
        try:
            while True:
                held.append(server.accept()[0])
                connected.set()
        except OSError:  # closed at the end of the test
            pass

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/live.mjpg", connected
    server.close()
    for connection in held:
        connection.close()


def test_stop_while_a_stream_hangs_says_stopping_until_the_worker_ends(qtbot, camera, silent_stream, gui_waits):
    url, connected = silent_stream
    camera.set_source(url)
    with gui_waits:
        camera.start()
        qtbot.waitUntil(connected.is_set, timeout=TIMEOUT)  # the worker is stuck opening it
        camera.stop()
        assert camera.state() == STOPPING and camera.toggle.text() == "Stopping…"
        assert camera.window().statusBar().currentMessage() == "Stopping…"
        qtbot.waitUntil(lambda: camera.state() == IDLE, timeout=TIMEOUT)
    assert gui_waits.calls == []
    assert camera.toggle.text() == "Start" and not camera.message.isVisible()  # no error: it was asked to stop
    assert camera.window().statusBar().currentMessage() == "Stopped."


def test_space_toggles(qtbot, camera, clip):
    from PySide6.QtCore import Qt

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
    assert camera.worker is None and camera.toggle.text() == "Start"


def test_a_video_that_ends_says_so(qtbot, camera, clip):
    camera.set_source(str(clip))
    with qtbot.waitSignal(camera.running_changed, check_params_cb=lambda running: not running, timeout=TIMEOUT):
        camera.start()  # 60 frames at 15 fps: about 4 s
    assert camera.message.text() == "The video clip.avi ended." and camera.toggle.text() == "Start"
    assert str(clip) not in open_files()


def test_closing_the_window_while_running_stops_the_worker(qtbot, window, random_weights, clip, monkeypatch):
    monkeypatch.setattr(main_window_module, "CLOSE_WAIT_MS", 10 * SETTLE_MS)  # however slow the machine
    window.detectors.weights = str(random_weights)
    window.start_camera(str(clip))
    qtbot.waitUntil(lambda: window.camera_tab.last_frame is not None, timeout=TIMEOUT)
    worker = window.camera_tab.worker
    assert worker.isRunning()
    window.close()
    assert worker.isFinished() and str(clip) not in open_files()  # closing awaited it: the file is released
    wait_until_nothing_runs(qtbot)


@pytest.mark.parametrize("kind", ["yolov5", "yunet"], ids=["objects", "faces"])
def test_a_slow_consumer_gets_the_latest_frame_never_a_backlog(qtbot, random_weights, astronaut_clip, kind):
    """The worker emits one frame, then waits for frame_consumed(); meanwhile newer frames
    replace each other in the slot, so the next frame emitted is the newest, not the next."""
    model = Detectors(random_weights).get(kind, live=True)
    worker = CameraWorker(str(astronaut_clip), model, replace(OPTIONS, kind=kind))
    frames = []
    worker.frame_ready.connect(lambda image, dets, stats, live: frames.append((stats, dets)))
    with qtbot.waitSignal(worker.frame_ready, timeout=TIMEOUT):
        worker.start()
    try:
        qtbot.waitUntil(lambda: worker.dropped >= 5, timeout=TIMEOUT)  # frames keep coming from the file
        assert len(frames) == 1  # nothing more was emitted while the view had not consumed
        worker.frame_consumed()
        qtbot.waitUntil(lambda: len(frames) == 2, timeout=TIMEOUT)
        (first, _), (second, found) = frames
        assert second["index"] >= first["index"] + 5 and second["dropped"] >= 5
        assert second["kind"] == kind
        if kind == "yunet":  # YuNet is real: her face, in every frame
            assert [d.label for d in found] == ["face"]
    finally:
        worker.request_stop()
        assert worker.wait(TIMEOUT)


def test_fifty_quick_toggles_never_block_and_leave_nothing_behind(qtbot, camera, clip, gui_waits):
    camera.set_source(str(clip))
    with gui_waits:
        for i in range(50):
            camera.start()
            if i % 5 == 4:  # now and then let the worker come up: Stop then meets the capture opening
                qtbot.waitUntil(lambda: camera.state() == RUNNING, timeout=TIMEOUT)
            camera.stop()
            if camera.state() == STOPPING:
                qtbot.waitUntil(lambda: camera.state() == IDLE, timeout=TIMEOUT)
            assert camera.state() == IDLE and camera.toggle.text() == "Start"
        wait_until_nothing_runs(qtbot)
    assert gui_waits.calls == []  # no stop (nor start) ever waited on a worker
    assert camera.worker is None and str(clip) not in open_files()
    start_and_wait_for_a_frame(qtbot, camera)  # still works after all that


def test_a_snapshot_has_the_camera_s_resolution_not_the_view_s(qtbot, camera, astronaut_clip):
    camera.window().resize(760, 420)  # a view lower than the 640 x 480 frames
    qtbot.waitUntil(lambda: camera.view.device_size()[1] < 480, timeout=TIMEOUT)
    camera.set_source(str(astronaut_clip))
    start_and_wait_for_a_frame(qtbot, camera)
    shown = camera.last_frame
    assert (shown.width(), shown.height()) == fit_size(640, 480, *camera.view.device_size())
    with qtbot.waitSignal(camera.snapshot_saved, timeout=TIMEOUT) as saved:
        camera.snapshot()
    assert Image.open(saved.args[0]).size == (640, 480)


def test_snapshots_are_saved_off_the_gui_thread_each_as_a_new_file(qtbot, camera, clip):
    camera.set_source(str(clip))
    start_and_wait_for_a_frame(qtbot, camera)
    saved = []
    camera.snapshot_saved.connect(saved.append)
    jobs = [camera.snapshot(), camera.snapshot()]  # the same second: the names must still differ
    qtbot.waitUntil(lambda: len(saved) == 2, timeout=TIMEOUT)
    first, second = saved
    assert first != second and first.exists() and second.exists()
    assert first.read_bytes()[:3] == b"\xff\xd8\xff" and first.parent.name == "lwface-desktop"
    assert all(job.thread is not None and job.thread.name != "MainThread" for job in jobs)
    assert not [p for p in first.parent.iterdir() if p.name.startswith(".lwface-")]  # no temporary files
    assert camera.window().statusBar().currentMessage() == f"Snapshot saved: {second}"


def test_options_reach_the_running_worker(qtbot, camera, astronaut_clip, monkeypatch):
    frames = record_frames(monkeypatch)
    camera.set_source(str(astronaut_clip))
    start_and_wait_for_a_frame(qtbot, camera)
    assert frames[0][2]["img_size"] == 320 and not frames[0][2]["people_only"]
    camera.size_choice.setCurrentIndex(camera.size_choice.findData(640))
    camera.class_choice.setCurrentIndex(1)  # people only
    camera.conf.setValue(60)
    # A later frame was detected with them (the stats say what the detector used).
    qtbot.waitUntil(lambda: (frames[-1][2]["img_size"], frames[-1][2]["conf"], frames[-1][2]["people_only"])
                    == (640, 0.6, True), timeout=TIMEOUT)
    assert all(d.label == "person" and d.score >= 0.6 for d in frames[-1][1])


# The app in a child process, saying "live" on stdout once the camera runs (the capture is open).
LIVE_SCRIPT = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from lwface_desktop.cli import main
from lwface_desktop.gui.app import create_app
from lwface_desktop.gui.main_window import MainWindow

def announce():
    [window] = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
    window.camera_tab.status.connect(lambda text: text.startswith("Live:") and print("live", flush=True))

create_app()
QTimer.singleShot(0, announce)  # runs first in the loop: before the camera starts
sys.exit(main(["--weights", sys.argv[1], "--source", sys.argv[2]]))
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl+C"])
def test_the_app_exits_cleanly_on_a_signal_while_the_camera_runs(clip, random_weights, tmp_path, sig):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path)}

    def the_clip_is_open(pid: int) -> None:  # the camera runs
        assert str(clip) in _open_files_of(pid)

    signal_once_ready(LIVE_SCRIPT, [str(random_weights), str(clip)], env, "live", sig, the_clip_is_open)


def fruit_model(path):
    """A model trained on other things than people: apple, banana, cherry."""
    from tests.checkpoints import random_network, save_checkpoint, tiny_architecture

    architecture = tiny_architecture(nc=3)
    save_checkpoint(random_network(architecture, [8, 16, 32]), path, architecture,
                    ["apple", "banana", "cherry"], [8, 16, 32])
    return path


def test_people_only_on_a_model_without_people_is_a_notice_not_a_stop(qtbot, camera, clip, tmp_path):
    camera.detectors.weights = str(fruit_model(tmp_path / "fruit.pt"))
    camera.set_source(str(clip))
    start_and_wait_for_a_frame(qtbot, camera)
    camera.class_choice.setCurrentIndex(1)  # people only
    qtbot.waitUntil(camera.message.isVisible, timeout=TIMEOUT)
    assert "unknown class person" in camera.message.text() and camera.is_running()


def test_options_a_model_cannot_take_are_left_out_and_the_others_apply(qtbot, camera, astronaut_clip,
                                                                       tmp_path, monkeypatch):
    # As restored from the settings: People only, 640, 0.5; then a model without people is loaded.
    camera.class_choice.setCurrentIndex(1)
    camera.size_choice.setCurrentIndex(camera.size_choice.findData(640))
    camera.conf.setValue(50)
    camera.detectors.weights = str(fruit_model(tmp_path / "fruit.pt"))
    frames = record_frames(monkeypatch)
    camera.set_source(str(astronaut_clip))
    start_and_wait_for_a_frame(qtbot, camera)
    stats = frames[0][2]
    assert (stats["img_size"], stats["conf"], stats["people_only"]) == (640, 0.5, False)  # the first frame already
    assert camera.message.isVisible() and camera.is_running()
    text = camera.message.text()
    assert "People only" in text and "unknown class person" in text and "all objects are shown" in text
    assert "previous settings" not in text and "input size" not in text


@pytest.mark.parametrize("source, shown", [
    ("rtsp://viewer:s3cret@cam.local:554/live", "rtsp://viewer:***@cam.local:554/live"),
    ("http://admin:p@ss@10.0.0.9/video.cgi?user=admin&pwd=s3cret&fps=15",
     "http://admin:***@10.0.0.9/video.cgi?user=admin&pwd=***&fps=15"),
    ("http://10.0.0.9/mjpg?token=s3cret", "http://10.0.0.9/mjpg?token=***"),
    ("rtsp://cam.local/live", "rtsp://cam.local/live"),
    ("http://viewer@cam.local/live", "http://viewer@cam.local/live"),
    (2, "camera 2"),
    ("/home/me/videos/clip.avi", "clip.avi"),
])
def test_a_source_is_described_without_its_password(source, shown):
    assert describe_source(source) == shown


def test_a_stream_s_password_is_never_shown(qtbot, camera):
    with socket.socket() as closed:  # a port nobody listens on: the stream cannot be opened
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    said = []
    camera.window().statusBar().messageChanged.connect(said.append)
    camera.set_source(f"http://viewer:s3cret@127.0.0.1:{port}/live.mjpg")
    with qtbot.waitSignal(camera.running_changed, check_params_cb=lambda running: not running, timeout=TIMEOUT):
        camera.start()
    assert said[0].startswith(f"Starting http://viewer:***@127.0.0.1:{port}/live.mjpg")
    assert camera.message.text() == (f"http://viewer:***@127.0.0.1:{port}/live.mjpg "
                                     "could not be opened as a video or stream.")
    assert not [text for text in said if "s3cret" in text]


def _open_files_of(pid: int) -> set[str]:
    found = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            found.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            pass
    return found
