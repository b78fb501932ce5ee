import errno
import os
import shutil
import threading
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, QTimer
from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox

from lwface_desktop.gui import image_tab as image_tab_module
from lwface_desktop.gui import settings, workers
from lwface_desktop.gui.main_window import SaveDialog
from tests.conftest import WEIGHTS, needs_weights
from tests.gui.conftest import drag_enter_event, drop_files

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


def test_photo_jobs_run_one_at_a_time_and_only_the_newest_waiting_request_runs(qtbot, window, photos, gate,
                                                                              monkeypatch):
    started = []
    gated = gate.wrap(image_tab_module.find_in_photo)

    def find_in_photo(request, *args):
        started.append(request.path.name)
        return gated(request, *args)

    monkeypatch.setattr(image_tab_module, "find_in_photo", find_in_photo)
    window.open_path(photos["coffee"])
    qtbot.waitUntil(gate.entered.is_set, timeout=TIMEOUT)  # decoding coffee.jpg
    window.open_path(photos["chelsea"])
    window.image_tab.set_kind("yolov5")  # a change of detector asks again, too
    window.image_tab.set_kind("cascade")
    window.open_path(photos["astronaut"])
    # One photo job; the three later requests share one pending slot, the newest kept.
    assert [getattr(w, "name", "") for w in workers.live_workers()].count("photo") == 1
    assert started == ["coffee.jpg"] and window.image_tab.is_busy()
    gate.open()
    wait_until_idle(qtbot, window)
    assert started == ["coffee.jpg", "astronaut.jpg"]  # chelsea.jpg was never decoded
    assert window.image_tab.result.path == photos["astronaut"]
    assert "astronaut.jpg: 1 face found" in status(window)


def open_and_wait(qtbot, window, photo):
    window.open_path(photo)
    wait_until_idle(qtbot, window)


def test_save_runs_off_the_gui_thread_and_writes_a_new_file(qtbot, window, photos, tmp_path):
    tab = window.image_tab
    open_and_wait(qtbot, window, photos["astronaut"])
    out = tmp_path / "astronaut-faces.png"
    with qtbot.waitSignal(tab.saved, timeout=TIMEOUT) as saved:
        job = tab.save_to(out)
        assert status(window) == "Saving astronaut-faces.png…"
        assert tab.busy_label.text() == "Saving…" and tab.busy_bar.isVisible()
    assert saved.args == [out] and job.thread is not threading.main_thread()
    assert Image.open(out).size == (512, 512)
    assert status(window) == f"Saved {out}"
    wait_until_idle(qtbot, window)
    assert not tab.busy_bar.isVisible()
    assert [p.name for p in tmp_path.iterdir()] == ["astronaut-faces.png"]  # no temporary file left
    assert window._last_folder() == str(tmp_path)


@pytest.mark.parametrize("target", ["the photo", "a hard link to it", "a symbolic link to it"])
def test_save_refuses_to_write_onto_the_original_photo(qtbot, window, photos, tmp_path, target):
    photo = tmp_path / "astronaut.jpg"
    shutil.copy(photos["astronaut"], photo)
    original = photo.read_bytes()
    out = {"the photo": photo, "a hard link to it": tmp_path / "link.jpg",
           "a symbolic link to it": tmp_path / "symlink.jpg"}[target]
    if target == "a hard link to it":
        os.link(photo, out)
    elif target == "a symbolic link to it":
        out.symlink_to(photo)
    open_and_wait(qtbot, window, photo)
    tab = window.image_tab
    tab.save_to(out)  # the save dialog has already asked "replace it?", and the user said yes
    qtbot.waitUntil(tab.message.isVisible, timeout=TIMEOUT)
    assert "writing it would destroy it" in tab.message.text()
    assert photo.read_bytes() == original and out.read_bytes() == original
    assert os.path.samefile(photo, out) or target == "the photo"
    wait_until_idle(qtbot, window)


def test_a_save_that_fails_midway_leaves_no_half_file_and_the_old_one_intact(qtbot, window, photos, tmp_path,
                                                                            monkeypatch):
    def disk_full(path, data):  # the encoded file's write, halfway through
        with open(path, "wb") as f:
            f.write(b"\xff\xd8\xff half a JPEG")
        raise OSError(errno.ENOSPC, "No space left on device")

    open_and_wait(qtbot, window, photos["astronaut"])
    out = tmp_path / "faces.jpg"
    out.write_bytes(b"yesterday's result")  # replaced only by a complete new file
    monkeypatch.setattr(Path, "write_bytes", disk_full)
    tab = window.image_tab
    tab.save_to(out)
    qtbot.waitUntil(tab.message.isVisible, timeout=TIMEOUT)
    assert "faces.jpg" in tab.message.text() and ".partial" not in tab.message.text()
    assert out.read_bytes() == b"yesterday's result"
    assert [p.name for p in tmp_path.iterdir()] == ["faces.jpg"]
    wait_until_idle(qtbot, window)


def answer_the_question(answer: QMessageBox.StandardButton, asked: list) -> None:
    """Soon: note the question of the message box on screen and press answer."""
    def press():
        [box] = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
        asked.append(box.text())
        box.button(answer).click()
    QTimer.singleShot(0, press)


def test_the_save_dialog_asks_about_the_name_it_will_really_write(qtbot, window, tmp_path):
    (tmp_path / "result.jpg").write_bytes(b"yesterday's result")
    dialog = SaveDialog(window, tmp_path / "astronaut-faces.jpg")
    qtbot.addWidget(dialog)
    dialog.open()
    name = dialog.findChild(QLineEdit, "fileNameEdit")
    assert name.text() == "astronaut-faces.jpg"
    asked = []
    answer_the_question(QMessageBox.StandardButton.No, asked)
    name.setText("result")  # no extension: .jpg is added, and result.jpg exists
    dialog.accept()
    assert asked == ["result.jpg already exists.\nDo you want to replace it?"]
    assert dialog.isVisible() and dialog.result() != SaveDialog.DialogCode.Accepted  # not replaced
    dialog.selectNameFilter("PNG image (*.png)")  # the PNG filter adds .png, not .jpg
    name.setText("result")
    dialog.accept()
    assert dialog.result() == SaveDialog.DialogCode.Accepted
    assert dialog.selectedFiles() == [str(tmp_path / "result.png")]
    assert (tmp_path / "result.jpg").read_bytes() == b"yesterday's result" and len(asked) == 1


def test_save_from_the_menu_writes_the_name_the_dialog_confirmed(qtbot, window, photos, tmp_path):
    open_and_wait(qtbot, window, photos["astronaut"])
    (tmp_path / "result.jpg").write_bytes(b"yesterday's result")
    asked = []

    def fill_in_the_dialog():
        [dialog] = [w for w in QApplication.topLevelWidgets() if isinstance(w, SaveDialog) and w.isVisible()]
        dialog.findChild(QLineEdit, "fileNameEdit").setText(str(tmp_path / "result"))
        answer_the_question(QMessageBox.StandardButton.Yes, asked)  # "replace result.jpg?": yes
        dialog.accept()

    QTimer.singleShot(0, fill_in_the_dialog)
    with qtbot.waitSignal(window.image_tab.saved, timeout=TIMEOUT) as saved:
        window.save_action.trigger()  # the dialog runs in here
    assert asked == ["result.jpg already exists.\nDo you want to replace it?"]
    assert saved.args == [tmp_path / "result.jpg"] and Image.open(tmp_path / "result.jpg").size == (512, 512)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.jpg"]
    wait_until_idle(qtbot, window)


def test_save_needs_a_jpeg_or_png_name(qtbot, window, photos, tmp_path):
    open_and_wait(qtbot, window, photos["astronaut"])
    window.image_tab.save_to(tmp_path / "faces.gif")
    qtbot.waitUntil(window.image_tab.message.isVisible, timeout=TIMEOUT)
    assert window.image_tab.message.text() == "faces.gif: choose a name ending in .jpg or .png."
    assert not list(tmp_path.iterdir())


def test_window_size_and_last_folder_are_remembered(qtbot, window, make_window, photos):
    window.resize(760, 500)  # the offscreen screen is 800 x 800
    window.open_path(photos["chelsea"])
    wait_until_idle(qtbot, window)
    window.close()
    again = make_window(first_run=False)
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
        win.close()  # awaits its workers

    QTimer.singleShot(0, check_then_close)
    assert main([str(photos["astronaut"])]) == 0
    assert seen == [photos["astronaut"]]


@needs_weights
def test_objects_detector_loads_the_model_in_the_background(qtbot, window, photos):
    tab = window.image_tab
    window.detectors.weights = str(WEIGHTS)
    window.open_path(photos["camera"])
    qtbot.waitUntil(lambda: "1 face found" in status(window), timeout=TIMEOUT)
    assert tab.conf.value() == settings.FACE_SCORE_DEFAULT  # YuNet's score
    tab.set_kind("yolov5")  # choosing another detector re-runs it on the photo
    assert tab.busy_label.text() == "Loading the YOLOv5 model…" and tab.busy_bar.isVisible()
    qtbot.waitUntil(lambda: "× person" in status(window), timeout=TIMEOUT)
    assert status(window).startswith("camera.jpg: 1 object (1 × person) found in ")
    assert tab.conf.value() == settings.SCORE_DEFAULT  # the objects' own
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
    assert tab.kind() == "yunet" and tab.result.path == photos["astronaut"]
    assert window.detectors.weights is None and QSettings().value("model/weights") is None
    window.open_path(photos["astronaut"])
    qtbot.waitUntil(lambda: "1 face found" in status(window), timeout=TIMEOUT)


def test_a_good_model_file_is_used_and_remembered(qtbot, window, photos, random_weights):
    from PySide6.QtCore import QSettings

    window.open_path(photos["camera"])
    wait_until_idle(qtbot, window)
    said = []
    window.statusBar().messageChanged.connect(said.append)
    window.load_model(random_weights)
    qtbot.waitUntil(lambda: f"Model {random_weights.name} loaded: 80 classes" in said, timeout=TIMEOUT)
    assert window.image_tab.kind() == "yolov5" and window.detectors.weights == str(random_weights)
    assert QSettings().value("model/weights") == str(random_weights)
    wait_until_idle(qtbot, window)  # the photo is looked at again with it
    assert window.image_tab.result.label == "object" and window.image_tab.result.path == photos["camera"]
