import shutil

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF
from PySide6.QtWidgets import QApplication

from tests.conftest import WEIGHTS, needs_weights
from tests.gui.conftest import drag_enter_event, drop_files, wait_for_jobs

TIMEOUT = 20_000  # ms; detection takes ~0.5 s, more on a busy CI machine


def status(window) -> str:
    return window.statusBar().currentMessage()


def wait_until_idle(qtbot, window):
    qtbot.waitUntil(lambda: not window.image_tab.is_busy(), timeout=TIMEOUT)


def test_dropping_a_jpeg_shows_its_faces(qtbot, window, photos):
    tab = window.image_tab
    assert drop_files(window, photos["astronaut"])
    assert tab.busy_bar.isVisible()  # the busy indicator shows while it works
    with qtbot.waitSignal(tab.result_changed, timeout=TIMEOUT):
        pass
    qtbot.waitUntil(lambda: "1 face found" in status(window), timeout=TIMEOUT)
    assert status(window).startswith("astronaut.jpg: 1 face found in ")
    assert not tab.busy_bar.isVisible() and not tab.message.isVisible()
    shown = tab.view.image()
    assert (shown.width(), shown.height()) == (512, 512)
    # The view shows the annotated photo: the left edge of the red box is in it.
    face = tab.result.detections[0]
    edge = shown.pixelColor(round(face.x1) + 1, round((face.y1 + face.y2) / 2))
    assert (edge.red(), edge.green(), edge.blue()) == (255, 0, 0)
    assert window.save_action.isEnabled() and tab.save_button.isEnabled()


def test_drop_on_the_photo_area_reaches_the_window(qtbot, window, photos):
    assert drop_files(window.image_tab.view, photos["coffee"])
    qtbot.waitUntil(lambda: "coffee.jpg: no faces found" in status(window), timeout=TIMEOUT)


def test_dropping_a_png_shows_a_message_and_the_app_goes_on(qtbot, window, bad_files, photos):
    tab = window.image_tab
    drop_files(window, bad_files["png-renamed.jpg"])
    qtbot.waitUntil(tab.message.isVisible, timeout=TIMEOUT)
    assert "is a PNG image, not a JPEG" in tab.message.text()
    assert tab.result is None and not window.save_action.isEnabled()
    drop_files(window, photos["astronaut"])
    qtbot.waitUntil(lambda: "1 face found" in status(window), timeout=TIMEOUT)
    assert not tab.message.isVisible()


def test_a_broken_jpeg_keeps_the_previous_photo(qtbot, window, bad_files, photos):
    tab = window.image_tab
    window.open_path(photos["astronaut"])
    wait_until_idle(qtbot, window)
    window.open_path(bad_files["truncated.jpg"])
    qtbot.waitUntil(tab.message.isVisible, timeout=TIMEOUT)
    assert "not a complete JPEG file" in tab.message.text()
    assert "still astronaut.jpg" in tab.message.text()
    assert tab.result.path == photos["astronaut"]


def test_a_drag_without_files_is_refused(window):
    mime = QMimeData()
    mime.setText("just some text")
    enter = drag_enter_event(QPointF(10, 10), mime)
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()


def test_the_newest_photo_wins(qtbot, window, photos):
    window.open_path(photos["coffee"])
    window.open_path(photos["astronaut"])
    wait_until_idle(qtbot, window)
    assert window.image_tab.result.path == photos["astronaut"]
    assert "astronaut.jpg: 1 face found" in status(window)


def test_save_writes_a_new_file_and_never_the_input(qtbot, window, photos, tmp_path):
    photo = tmp_path / "astronaut.jpg"
    shutil.copy(photos["astronaut"], photo)
    original = photo.read_bytes()
    window.open_path(photo)
    wait_until_idle(qtbot, window)

    assert not window.image_tab.save_to(photo)
    assert "original photo" in window.image_tab.message.text()
    assert photo.read_bytes() == original

    out = tmp_path / "astronaut-faces.png"
    assert window.image_tab.save_to(out)
    assert Image.open(out).size == (512, 512)
    assert status(window) == f"Saved {out}"


def test_window_size_and_last_folder_are_remembered(qtbot, window, photos):
    from lwface_desktop.gui.main_window import MainWindow

    window.resize(760, 500)  # the offscreen screen is 800 x 800
    window.open_path(photos["chelsea"])
    wait_until_idle(qtbot, window)
    window.close()
    again = MainWindow()
    qtbot.addWidget(again, before_close_func=lambda w: wait_for_jobs())
    assert (again.width(), again.height()) == (760, 500)
    assert again._last_folder() == str(photos["chelsea"].parent)


@pytest.mark.parametrize("key", ["Open", "Save", "Quit"])
def test_standard_shortcuts_are_set(window, key):
    from PySide6.QtGui import QKeySequence

    actions = {"Open": window.open_action, "Save": window.save_action}
    shortcut = QKeySequence(getattr(QKeySequence.StandardKey, key))
    if key == "Quit":
        assert any(a.shortcut() == shortcut for a in window.findChildren(type(window.open_action)))
    else:
        assert actions[key].shortcut() == shortcut


def test_a_photo_named_on_the_command_line_opens_in_the_window(qtbot, photos):
    from PySide6.QtCore import QTimer

    from lwface_desktop.cli import main
    from lwface_desktop.gui.main_window import MainWindow

    seen = []

    def check_then_close():
        [win] = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        qtbot.waitUntil(lambda: "1 face found" in status(win), timeout=TIMEOUT)
        seen.append(win.image_tab.result.path)
        wait_for_jobs()
        win.close()

    QTimer.singleShot(0, check_then_close)
    assert main([str(photos["astronaut"])]) == 0
    assert seen == [photos["astronaut"]]


@needs_weights
def test_objects_detector_loads_the_model_in_the_background(qtbot, window, photos):
    tab = window.image_tab
    window.detectors.weights = str(WEIGHTS)
    window.open_path(photos["camera"])
    qtbot.waitUntil(lambda: "1 face found" in status(window), timeout=TIMEOUT)
    assert not tab.conf.isEnabled()  # the score threshold is YOLOv5's
    tab.set_kind("yolov5")  # choosing another detector re-runs it on the photo
    assert tab.busy_label.text() == "Loading the YOLOv5 model…" and tab.busy_bar.isVisible()
    qtbot.waitUntil(lambda: "× person" in status(window), timeout=TIMEOUT)
    assert status(window).startswith("camera.jpg: 1 object (1 × person) found in ")
    assert tab.conf.isEnabled()
    tab.conf.setValue(0.05)  # a lower threshold finds more, after a short pause
    qtbot.waitUntil(lambda: len(tab.result.detections) > 1, timeout=TIMEOUT)


def test_a_bad_model_file_is_reported_and_the_app_goes_on(qtbot, window, photos, bad_files):
    from PySide6.QtCore import QSettings

    tab = window.image_tab
    window.open_path(photos["astronaut"])
    wait_until_idle(qtbot, window)
    window.load_model(bad_files["notes.jpg"])
    qtbot.waitUntil(tab.message.isVisible, timeout=TIMEOUT)
    assert "notes.jpg is not a PyTorch model file" in tab.message.text()
    # Refused: the faces on the photo stay, and the bad file is neither used nor remembered.
    assert tab.kind() == "cascade" and tab.result.path == photos["astronaut"]
    assert window.detectors.weights is None and QSettings().value("model/weights") is None
    window.open_path(photos["astronaut"])
    qtbot.waitUntil(lambda: "1 face found" in status(window), timeout=TIMEOUT)


@needs_weights
def test_a_good_model_file_is_used_and_remembered(qtbot, window, photos):
    from PySide6.QtCore import QSettings

    window.open_path(photos["camera"])
    wait_until_idle(qtbot, window)
    window.load_model(WEIGHTS)
    qtbot.waitUntil(lambda: "× person" in status(window), timeout=TIMEOUT)
    assert window.image_tab.kind() == "yolov5"
    assert QSettings().value("model/weights") == str(WEIGHTS)