"""GUI fixtures: offscreen Qt, settings in a temporary folder, windows whose workers stop,
gates that hold a job where a test wants it, and a check that the GUI thread never waits."""

from __future__ import annotations

import os
import threading
import time

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDragEnterEvent, QDropEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from lwface_desktop.gui import workers  # noqa: E402

SETTLE_MS = 30_000  # generous: CI machines are slow; no test waits this long when it passes


@pytest.fixture(scope="session", autouse=True)
def isolated_settings(qapp, tmp_path_factory):
    """Each test session gets its own settings file, never the developer's."""
    from PySide6.QtCore import QStandardPaths

    from lwface_desktop.gui.app import create_app

    create_app()
    QStandardPaths.setTestModeEnabled(True)  # snapshots go to a test Pictures folder
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      str(tmp_path_factory.mktemp("settings")))


@pytest.fixture(autouse=True)
def nothing_left_running(qtbot):
    """After each test (its windows closed by pytest-qt), every worker ends and its end
    reaches the registry: no test leaves a thread or a job behind for the next one."""
    yield
    workers.stop_all()
    qtbot.waitUntil(lambda: not workers.live_workers(), timeout=SETTLE_MS)


def close_cleanly(window) -> None:
    """before_close_func: stop the camera and let every worker end before the window closes."""
    window.camera_tab.shutdown()
    window.image_tab.shutdown()
    workers.stop_all()
    assert workers.await_workers(SETTLE_MS), workers.live_workers()


@pytest.fixture
def make_window(qtbot):
    """Windows made on demand (after a test has patched what their constructor starts)."""
    from lwface_desktop.gui.main_window import MainWindow

    def make(weights=None, first_run: bool = True) -> MainWindow:
        if first_run:
            QSettings().clear()
        win = MainWindow(weights)
        qtbot.addWidget(win, before_close_func=close_cleanly)
        win.show()
        qtbot.waitExposed(win)
        return win

    return make


@pytest.fixture
def window(make_window):
    return make_window()  # each test starts as a first run


ASTRONAUT_CLIP_FRAMES = 300  # 20 s at 15 fps: it never ends while a test looks at its frames


def still_clip(photo_rgb, path, frames: int = ASTRONAUT_CLIP_FRAMES):
    """A 640x480 MJPG video at 15 fps of one photo only (20 s by default): whichever frame a
    test sees first shows it, and the clip outlasts any test that waits for a frame or two."""
    import cv2

    frame = cv2.cvtColor(cv2.resize(photo_rgb, (640, 480)), cv2.COLOR_RGB2BGR)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15, (640, 480))
    for _ in range(frames):
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture(scope="session")
def astronaut_clip(tmp_path_factory):
    """still_clip of the astronaut (a real face, and a person)."""
    from skimage import data

    return still_clip(data.astronaut(), tmp_path_factory.mktemp("video") / "astronaut.avi")


def record_frames(monkeypatch) -> list:
    """Every frame_ready of every worker the camera tab starts from now on, (image, detections,
    stats, LiveFrame), recorded from the worker's first frame: none is missed."""
    from lwface_desktop.gui import camera_tab
    from lwface_desktop.gui.camera_worker import CameraWorker

    frames = []

    def make_worker(*args):
        worker = CameraWorker(*args)
        worker.frame_ready.connect(lambda *frame: frames.append(frame))
        return worker

    monkeypatch.setattr(camera_tab, "CameraWorker", make_worker)
    return frames


class Gate:
    """Holds the functions it wraps at their start until open(): a job that is 'still loading'
    for exactly as long as a test needs, without sleeping."""

    def __init__(self):
        self.entered = threading.Event()
        self._open = threading.Event()

    def wrap(self, fn):
        def gated(*args, **kwargs):
            self.entered.set()
            self._open.wait(SETTLE_MS / 1000)
            return fn(*args, **kwargs)
        return gated

    def open(self) -> None:
        self._open.set()


@pytest.fixture
def gate():
    g = Gate()
    yield g
    g.open()  # a failed test must not leave a job stuck


class GuiWaits:
    """Records every blocking call made on the GUI thread inside `with gui_waits:`."""

    def __init__(self):
        self.calls: list[str] = []
        self.recording = False

    def __enter__(self):
        self.recording = True
        return self

    def __exit__(self, *exc):
        self.recording = False

    def spy(self, name: str, fn):
        def recorded(*args, **kwargs):
            if self.recording and threading.current_thread() is threading.main_thread():
                self.calls.append(name)
            return fn(*args, **kwargs)
        return recorded


@pytest.fixture
def gui_waits(monkeypatch):
    """Every way the GUI thread could block on a worker: waiting for a thread, an event or a
    condition, sleeping, awaiting the registry, loading a model (it takes the model lock),
    opening a capture or looking for cameras. None of them may happen on the GUI thread."""
    from lwface_desktop.core.detectors import Detectors
    from lwface_desktop.gui import camera_tab, camera_worker

    waits = GuiWaits()
    for owner, name in ((threading.Event, "wait"), (threading.Condition, "wait"), (time, "sleep"),
                        (camera_worker.CameraWorker, "wait"), (workers.Registry, "await_workers"),
                        (Detectors, "get"), (camera_worker, "FrameSource"), (camera_tab, "find_cameras")):
        monkeypatch.setattr(owner, name, waits.spy(f"{getattr(owner, '__name__', owner)}.{name}",
                                                    getattr(owner, name)))
    return waits


def drop_files(widget, *paths) -> bool:
    """Drag file URLs from a 'file manager' onto widget, as Qt delivers it; True if accepted."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    enter = drag_enter_event(pos, mime)
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)
    return drop.isAccepted()


def drag_enter_event(pos: QPointF, mime: QMimeData) -> QDragEnterEvent:
    """Qt 6.12 takes a QPointF (and deprecates QPoint); earlier versions only a QPoint."""
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    try:
        return QDragEnterEvent(pos, *args)
    except TypeError:
        return QDragEnterEvent(pos.toPoint(), *args)


def open_photo_and_wait(qtbot, window, photo, kind: str | None = None):
    """Open photo in the Open image tab (with kind's detector, if given) and wait until its
    result is shown and nothing is running: the tab's PhotoResult."""
    tab = window.image_tab
    if kind is not None:
        tab.set_kind(kind)
    window.open_path(photo)
    qtbot.waitUntil(lambda: tab.result is not None and tab.result.path == photo and not tab.is_busy(),
                    timeout=SETTLE_MS)
    return tab.result


def needs_file(path) -> None:
    """Skip, saying why, when a photo of ../shared is not there."""
    if not path.is_file():
        pytest.skip(f"needs {path} (../shared)")


@pytest.fixture
def videos(tmp_path, monkeypatch):
    """Where recordings go in a test (the app's: Videos/lwface-desktop)."""
    from lwface_desktop.gui import recorder

    folder = tmp_path / "Videos" / "lwface-desktop"
    monkeypatch.setattr(recorder, "recording_folder", lambda: folder)
    return folder


@pytest.fixture
def faces_camera(window):
    """The live tab finding faces (YuNet, bundled: no YOLOv5 model needed)."""
    window.tabs.setCurrentWidget(window.camera_tab)
    window.camera_tab.set_kind("yunet")
    return window.camera_tab


def signal_once_ready(script: str, args: list[str], env: dict, ready: str, sig: int,
                      before_signal=lambda pid: None) -> None:
    """Run the app (`python -c script *args`) in a child process; once it prints the line ready,
    call before_signal(pid), send it sig, and check it exits cleanly (0, no traceback). A
    watchdog kills an app that never says ready (it shows an error instead)."""
    import subprocess
    import sys

    app = subprocess.Popen([sys.executable, "-c", script, *args], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(120, app.kill)
    watchdog.start()
    try:
        assert app.stdout.readline() == f"{ready}\n", f"the app never said {ready!r}"
        before_signal(app.pid)
        app.send_signal(sig)
        _, stderr = app.communicate(timeout=120)
    finally:
        watchdog.cancel()
        app.kill()  # only if it is still there after a failure
        app.wait()
    assert app.returncode == 0 and "Traceback" not in stderr, stderr
