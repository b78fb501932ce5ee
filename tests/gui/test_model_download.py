"""The Download button where no YOLOv5 model is found: the official yolov5n.pt served by a
loopback HTTP server (the real file, checked against the real official SHA-256), with its
progress, Cancel, a file that is not the official one, and no connection at all."""

from __future__ import annotations

import pytest

from lwface_desktop.core import weights
from lwface_desktop.gui.model_download import CANCEL, DOWNLOAD, NO_MODEL
from tests import model_server
from tests.conftest import WEIGHTS, needs_official_model
from tests.gui.conftest import SETTLE_MS

pytestmark = needs_official_model
no_model = pytest.fixture(model_server.no_model)
serve = pytest.fixture(model_server.serve)

def offered_download(qtbot, window, photos):
    """Objects in a photo with no model: the banner says so and offers the download."""
    tab = window.image_tab
    tab.set_kind("yolov5")
    window.open_path(photos["astronaut"])
    qtbot.waitUntil(lambda: tab.message.isVisible() and not tab.is_busy(), timeout=SETTLE_MS)
    assert tab.message.text() == NO_MODEL
    assert tab.message.action() == DOWNLOAD == "Download YOLOv5n (3.9 MB)"
    return tab


def test_no_model_offers_the_download_which_fetches_verifies_and_uses_it(qtbot, window, photos, no_model, serve):
    server = serve(WEIGHTS.read_bytes(), held=True)
    tab = offered_download(qtbot, window, photos)
    tab.message.button.click()
    # The first part arrived; the server holds the rest: the banner shows how far it got.
    qtbot.waitUntil(lambda: tab.message.progress.value() > 0, timeout=SETTLE_MS)
    assert tab.message.action() == CANCEL and tab.message.progress.isVisible()
    assert "Downloading YOLOv5n:" in tab.message.text() and "of 3.9 MB" in tab.message.text()
    assert 0 < tab.message.progress.value() < tab.message.progress.maximum()
    server.release()
    qtbot.waitUntil(lambda: "is in use" in tab.message.text(), timeout=SETTLE_MS)
    assert "80 kinds of things" in tab.message.text() and not tab.message.progress.isVisible()
    assert tab.message.action() == ""
    assert sorted(p.name for p in no_model.iterdir()) == ["yolov5n.pt"]
    assert weights.sha256(no_model / "yolov5n.pt") == weights.OFFICIAL["yolov5n"]
    # Objects work now: the photo is searched again with the downloaded model.
    qtbot.waitUntil(lambda: tab.result is not None and not tab.is_busy(), timeout=SETTLE_MS)
    assert tab.result.label == "object" and "person" in {d.label for d in tab.result.detections}
    assert server.requests == 1


def test_cancel_stops_a_stalled_download_at_once_and_keeps_nothing(qtbot, window, photos, no_model, serve):
    server = serve(WEIGHTS.read_bytes(), held=True)
    tab = offered_download(qtbot, window, photos)
    tab.message.button.click()
    qtbot.waitUntil(lambda: tab.message.progress.value() > 0 and server.stalled.is_set(), timeout=SETTLE_MS)
    tab.message.button.click()  # Cancel, while the server sends nothing more
    assert tab.message.text() == "Cancelling the download…" and tab.message.action() == ""
    # The download's read waits for a server that never sends again: Cancel cuts the connection.
    qtbot.waitUntil(lambda: window.model_download.job is None, timeout=SETTLE_MS)
    assert server.held
    assert tab.message.text() == "The download was cancelled; nothing was kept."
    assert tab.message.action() == DOWNLOAD  # offered again
    assert list(no_model.iterdir()) == []  # no model, no temporary file
    assert window.statusBar().currentMessage() == "Download cancelled."
    assert tab.result is None


def test_a_file_that_is_not_the_official_one_is_refused(qtbot, window, photos, no_model, serve):
    official = WEIGHTS.read_bytes()
    serve(official[::-1])  # as long as the official file, other bytes
    tab = offered_download(qtbot, window, photos)
    tab.message.button.click()
    qtbot.waitUntil(lambda: window.model_download.job is None and "SHA-256" in tab.message.text(),
                    timeout=SETTLE_MS)
    assert "is not the official file (SHA-256 mismatch); it was not kept" in tab.message.text()
    assert tab.message.action() == DOWNLOAD
    assert list(no_model.iterdir()) == []
    assert tab.result is None and window.detectors.loaded_yolo() is None


def test_offline_says_there_is_no_connection_and_what_to_do(qtbot, window, photos, no_model, monkeypatch):
    monkeypatch.setenv("LWFACE_WEIGHTS_URL", f"http://127.0.0.1:{model_server.closed_port()}/")
    tab = offered_download(qtbot, window, photos)
    tab.message.button.click()
    qtbot.waitUntil(lambda: window.model_download.job is None and "no connection" in tab.message.text(),
                    timeout=SETTLE_MS)
    text = tab.message.text()
    assert "Could not download yolov5n: no connection to the internet" in text
    assert "File > Load model…" in text and tab.message.action() == DOWNLOAD
    assert list(no_model.iterdir()) == []


def test_the_camera_tab_offers_it_too_and_other_errors_offer_nothing(qtbot, window, no_model, bad_files,
                                                                      astronaut_clip):
    camera = window.camera_tab
    window.tabs.setCurrentWidget(camera)
    camera.set_kind("yolov5")
    camera.set_source(str(astronaut_clip))
    camera.start()
    qtbot.waitUntil(lambda: camera.message.isVisible() and not camera.is_running(), timeout=SETTLE_MS)
    assert camera.message.text() == NO_MODEL and camera.message.action() == DOWNLOAD
    # A model chosen that is not one: its error, and no download offered.
    window.load_model(bad_files["notes.jpg"])
    tab = window.image_tab
    qtbot.waitUntil(lambda: not tab.message.isHidden(), timeout=SETTLE_MS)  # shown in its tab
    assert "not a PyTorch model file" in tab.message.text() and tab.message.action() == ""
