"""Help › Run the self-test: the --self-test checks, off the GUI thread, answered in words."""

from PySide6.QtWidgets import QApplication, QMessageBox

TIMEOUT = 60_000  # the model check runs YOLOv5 once; a busy machine is slow


def self_test_dialog() -> QMessageBox | None:
    return next((w for w in QApplication.topLevelWidgets()
                 if isinstance(w, QMessageBox) and w.objectName() == "self-test" and w.isVisible()), None)


def run_self_test(qtbot, window) -> QMessageBox:
    window.self_test_action.trigger()
    assert not window.self_test_action.isEnabled()  # one at a time
    qtbot.waitUntil(lambda: self_test_dialog() is not None, timeout=TIMEOUT)
    qtbot.waitUntil(window.self_test_action.isEnabled, timeout=TIMEOUT)
    return self_test_dialog()


def test_the_self_test_passes_with_a_working_model(qtbot, make_window, random_weights):
    window = make_window(str(random_weights))
    dialog = run_self_test(qtbot, window)
    assert dialog.icon() == QMessageBox.Icon.Information
    assert "All checks passed: lwface-desktop is ready." in dialog.text()
    assert f"The model {random_weights} loads and runs" in dialog.text()
    assert "The YuNet face model is intact" in dialog.text()
    assert window.statusBar().currentMessage() == "All checks passed: lwface-desktop is ready."
    dialog.close()


def test_the_self_test_says_in_words_what_is_wrong(qtbot, make_window, tmp_path):
    missing = tmp_path / "gone.pt"
    window = make_window(str(missing))
    dialog = run_self_test(qtbot, window)
    assert dialog.icon() == QMessageBox.Icon.Warning
    assert "1 check failed: see below." in dialog.text()
    assert window.statusBar().currentMessage() == "1 check failed: see the self-test's window."
    assert "gone.pt" in dialog.text() and "Traceback" not in dialog.text()
    dialog.close()


def test_about_names_the_version_and_every_bundled_models_licence():
    from lwface_desktop import __version__
    from lwface_desktop.gui.main_window import about_text

    text = about_text()
    assert f"lwface-desktop {__version__}" in text
    assert "YOLOv5n weights (Ultralytics): AGPL-3.0" in text
    assert "YuNet face detector (OpenCV Zoo): MIT" in text
    licence = text.split("MIT — ")[1].split("<br>")[0]
    assert "MIT License" in open(licence).read()  # the path shown is the licence itself
