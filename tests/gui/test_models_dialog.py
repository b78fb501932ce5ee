"""File › Models…: every model found, with where, size, classes, licence and which one is in use;
its Download button when there is none."""

from __future__ import annotations

import shutil

import pytest

from lwface_desktop.core import weights
from lwface_desktop.core.resources import resource_path
from lwface_desktop.gui.models_dialog import COLUMNS
from tests import model_server
from tests.conftest import WEIGHTS, needs_official_model
from tests.gui.conftest import SETTLE_MS

pytestmark = needs_official_model
no_model = pytest.fixture(model_server.no_model)
serve = pytest.fixture(model_server.serve)


def open_models(qtbot, window) -> dict[str, dict[str, str]]:
    """File › Models…, once listed: {model: {column: text}}."""
    menu = window.menuBar().actions()[0].menu()
    next(a for a in menu.actions() if a.text() == "Mo&dels…").trigger()
    dialog = window.models_dialog
    qtbot.waitUntil(lambda: dialog.isVisible() and dialog.table.rowCount() > 0, timeout=SETTLE_MS)
    return table_of(dialog)


def table_of(dialog) -> dict[str, dict[str, str]]:
    table = dialog.table
    return {table.item(row, 0).text(): {column: table.item(row, c).text() for c, column in enumerate(COLUMNS)}
            for row in range(table.rowCount())}


def test_lists_each_model_with_size_classes_licence_and_which_is_in_use(qtbot, make_window, no_model,
                                                                         random_weights, photos):
    no_model.mkdir(parents=True)
    shutil.copy(random_weights, no_model / "yolov5n.pt")  # not the official file, in the cache
    window = make_window(weights=str(WEIGHTS))
    rows = open_models(qtbot, window)
    assert list(rows) == ["YOLOv5n (official)", "YOLOv5 (yolov5n.pt)", "YuNet (faces)", "Face cascade (classic)"]
    official, other = rows["YOLOv5n (official)"], rows["YOLOv5 (yolov5n.pt)"]
    assert official == {"Model": "YOLOv5n (official)", "Where": "chosen file", "Size": "3.9 MB", "Classes": "80",
                        "Licence": "AGPL-3.0 (Ultralytics)", "Status": "used when needed", "File": str(WEIGHTS)}
    assert (other["Where"], other["Classes"], other["Status"]) == ("cache", "80", "—")  # classes read from the file
    assert other["Licence"] == "unknown: not an official file"
    assert other["Size"] == weights.size_text(random_weights.stat().st_size)
    yunet = rows["YuNet (faces)"]
    assert (yunet["Where"], yunet["Classes"], yunet["Licence"]) == ("bundled", "1", "MIT")
    licence_tip = window.models_dialog.table.item(2, COLUMNS.index("Licence")).toolTip()
    assert str(resource_path("models", "LICENSE-yunet.txt")) in licence_tip
    assert rows["Face cascade (classic)"]["Licence"] == "BSD-3-Clause"

    # Objects in a photo load the chosen model: listed again, it is the one in use.
    window.image_tab.set_kind("yolov5")
    window.open_path(photos["astronaut"])
    qtbot.waitUntil(lambda: window.image_tab.result is not None, timeout=SETTLE_MS)
    window.show_models()
    qtbot.waitUntil(lambda: table_of(window.models_dialog)["YOLOv5n (official)"]["Status"] == "in use",
                    timeout=SETTLE_MS)


def test_no_model_says_so_and_its_download_button_fetches_and_lists_it(qtbot, window, no_model, serve):
    serve(WEIGHTS.read_bytes())
    rows = open_models(qtbot, window)
    dialog = window.models_dialog
    assert list(rows) == ["YuNet (faces)", "Face cascade (classic)"]
    assert dialog.looking.text().startswith("No YOLOv5 model was found")
    assert dialog.download_button.text() == "Download YOLOv5n (3.9 MB)" and dialog.download_button.isEnabled()
    dialog.download_button.click()
    assert not dialog.download_button.isEnabled()  # one download at a time; the banner's Cancel stops it
    qtbot.waitUntil(lambda: "is in use" in dialog.banner.text(), timeout=SETTLE_MS)
    qtbot.waitUntil(lambda: "YOLOv5n (official)" in table_of(dialog), timeout=SETTLE_MS)
    qtbot.waitUntil(lambda: table_of(dialog)["YOLOv5n (official)"]["Status"] == "in use", timeout=SETTLE_MS)
    row = table_of(dialog)["YOLOv5n (official)"]
    assert (row["Where"], row["File"]) == ("chosen file, cache", str(no_model / "yolov5n.pt"))
    assert dialog.looking.isHidden()
    assert not dialog.download_button.isEnabled()  # it is there already


def test_a_failed_download_from_the_dialog_says_why_and_its_button_offers_it_again(qtbot, window, no_model,
                                                                                    monkeypatch):
    monkeypatch.setenv("LWFACE_WEIGHTS_URL", f"http://127.0.0.1:{model_server.closed_port()}/")
    open_models(qtbot, window)
    dialog = window.models_dialog
    dialog.download_button.click()
    qtbot.waitUntil(lambda: "no connection" in dialog.banner.text(), timeout=SETTLE_MS)
    qtbot.waitUntil(dialog.download_button.isEnabled, timeout=SETTLE_MS)
    assert dialog.banner.action() == ""  # the dialog's own button offers it, not a second one
    assert list(table_of(dialog)) == ["YuNet (faces)", "Face cascade (classic)"]
