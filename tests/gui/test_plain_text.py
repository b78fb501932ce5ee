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
    rich = [window.image_tab.results.legend]  # colour swatches; the class names in it are escaped (below)
    assert [label for label in labels if label.textFormat() != Qt.TextFormat.PlainText and label not in rich] == []


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


def test_names_in_the_film_strip_and_the_results_panel_are_shown_as_written(qtbot, window, tmp_path, photos):
    """The strip's tooltips and the panel's heading name the photo; the legend (rich text, for its
    colour swatches) names the classes: a name that looks like HTML is escaped everywhere."""
    import html
    import shutil

    photo = tmp_path / f"{HTML_NAME}.jpg"
    shutil.copy(photos["astronaut"], photo)
    shutil.copy(photos["astronaut"], tmp_path / "second.jpg")
    window.open_paths([str(tmp_path)])
    tab = window.image_tab
    qtbot.waitUntil(lambda: tab.result is not None and not tab.is_busy() and not tab.batch.is_busy(),
                    timeout=TIMEOUT)
    strip = tab.batch.strip
    tips = [strip.tool_tip(row) for row in range(strip.count())]
    assert any(html.escape(photo.name) in tip for tip in tips)
    assert not any(photo.name in tip for tip in tips)  # never the raw name a tooltip would render
    assert tab.results.heading.textFormat() == Qt.TextFormat.PlainText
    from lwface_desktop.core.detection import Detection

    tab.results.show_result([Detection(0, 0, 9, 9, 0.5, HTML_NAME)], (), "object", photo.name)
    assert html.escape(HTML_NAME) in tab.results.legend.text() and HTML_NAME not in tab.results.legend.text()
    assert tab.results.heading.text().endswith(photo.name)
