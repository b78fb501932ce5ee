"""Text from outside the app (file names, error messages, class names) is shown as written:
a file called "<img src=x>.jpg" is a name, never HTML that QLabel would render."""

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as QtGui
from PySide6.QtWidgets import QLabel

TIMEOUT = 20_000
HTML_NAME = "<img src=x><b>bold<b> & <i>co"  # no "/": it is a file name


def test_every_label_of_the_window_is_plain_text(window):
    labels = window.findChildren(QLabel)
    assert window.image_tab.message.label in labels and window.camera_tab.stats in labels
    assert [label for label in labels if label.textFormat() != Qt.TextFormat.PlainText] == []


def test_a_photo_named_like_html_is_named_as_written(qtbot, window, tmp_path):
    photo = tmp_path / f"{HTML_NAME}.jpg"
    photo.write_bytes(b"These are my holiday notes, not a photo.\n")
    assert QtGui.mightBeRichText(photo.name)  # a QLabel left to guess would render it
    window.open_path(photo)
    banner = window.image_tab.message
    qtbot.waitUntil(banner.isVisible, timeout=TIMEOUT)
    assert banner.textFormat() == Qt.TextFormat.PlainText
    assert banner.text().startswith(f"{photo.name} is ")
    assert window.statusBar().currentMessage() == banner.text()


def test_a_video_named_like_html_is_named_as_written(qtbot, window, random_weights):
    camera = window.camera_tab
    camera.detectors.weights = str(random_weights)
    camera.set_source(f"/no/such/{HTML_NAME}.avi")
    assert camera.source_choice.currentText() == f"Video: {HTML_NAME}.avi"  # combo items are plain text
    with qtbot.waitSignal(camera.running_changed, check_params_cb=lambda running: not running, timeout=TIMEOUT):
        camera.start()
    assert camera.message.textFormat() == Qt.TextFormat.PlainText
    assert f"{HTML_NAME}.avi was not found" in camera.message.text()
