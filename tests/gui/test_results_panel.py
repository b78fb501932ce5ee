"""The results panel beside the photo, on real photos: a row per detection with its thumbnail,
counts per class in their colours, selecting a row highlights its box in the view (and a
click on a box selects its row), hidden faces stay hidden in the thumbnails, and the panel
can be hidden, which is remembered with its width."""

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest

from lwface_desktop.core.detection import count_text
from lwface_desktop.core.palette import colour_of, hex_colour
from lwface_desktop.core.thumbnails import SIDE
from lwface_desktop.gui.results_panel import FRAME, box_text
from tests.conftest import SHARED, WEIGHTS, needs_weights
from tests.gui.conftest import needs_file as needs
from tests.gui.conftest import open_photo_and_wait as open_and_wait

TIMEOUT = 20_000
GROUP_PHOTO = SHARED / "faces" / "2007_007763.jpg"        # seven faces
OBJECTS_PHOTO = SHARED / "reference" / "jpeg" / "bottle-detection-frame400.jpg"  # bottles, a hand, a table


def cell(panel, row: int, column: int) -> str:
    return panel.table.item(row, column).text()


def grey_level(image: QImage, point: QPointF) -> int:
    c = image.pixelColor(round(point.x()), round(point.y()))
    return c.red() + c.green() + c.blue()


def test_one_row_per_face_found_in_a_real_photo_with_its_thumbnail(qtbot, window):
    needs(GROUP_PHOTO)
    result = open_and_wait(qtbot, window, GROUP_PHOTO)
    panel = window.image_tab.results
    detections = result.detections
    assert len(detections) >= 5  # YuNet finds most of the seven
    assert panel.table.isVisible() and panel.table.rowCount() == len(detections)
    assert panel.heading.text() == f"{count_text(len(detections), 'face').capitalize()} found in 2007_007763.jpg"
    for row, det in enumerate(detections):
        assert (cell(panel, row, 1), cell(panel, row, 2), cell(panel, row, 3)) == (
            "face", f"{det.score:.2f}", box_text(det, lines=2))
        assert panel.table.item(row, 0).data(Qt.ItemDataRole.DecorationRole) == result.thumbnails[row]
    # The legend: the count in the faces' colour.
    assert count_text(len(detections), "face") in panel.legend.text()
    assert hex_colour(colour_of("face")) in panel.legend.text()
    # A thumbnail per face, cut from the photo as shown, at most SIDE pixels, in a red frame.
    assert len(result.thumbnails) == len(detections)
    for thumb in result.thumbnails:
        assert 0 < max(thumb.width(), thumb.height()) <= SIDE + 2 * FRAME
        for x in range(FRAME):
            edge = thumb.pixelColor(x, thumb.height() // 2)
            assert (edge.red(), edge.green(), edge.blue()) == colour_of("face")
        inside = [thumb.pixelColor(x, y) for x in range(8, thumb.width() - 8) for y in range(8, thumb.height() - 8)]
        red = sum((c.red(), c.green(), c.blue()) == colour_of("face") for c in inside)
        assert red < len(inside) / 4  # a face in it (a neighbour's label may cross it)


def test_selecting_a_row_highlights_that_box_in_the_view(qtbot, window):
    needs(GROUP_PHOTO)
    result = open_and_wait(qtbot, window, GROUP_PHOTO)
    tab = window.image_tab
    view, panel = tab.view, tab.results
    assert view.highlight() is None
    before = view.grab().toImage()
    row = len(result.detections) - 1
    panel.table.selectRow(row)  # as a click on the row does
    assert view.highlight() == row and panel.selected() == row
    box = result.detections[row]
    after = view.grab().toImage()
    # Drawn: around the box the photo is dimmed, inside it the photo is as it was.
    inside = view.to_widget((box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2)
    assert after.pixelColor(inside.toPoint()) == before.pixelColor(inside.toPoint())
    width, height = result.analysis.width, result.analysis.height
    bottom = [view.to_widget(width * i / 20, height - 3) for i in range(1, 20)]  # along the photo's bottom
    assert sum(grey_level(after, p) for p in bottom) < 0.75 * sum(grey_level(before, p) for p in bottom)
    # Another row moves the highlight; no row, none.
    panel.table.selectRow(0)
    assert view.highlight() == 0
    panel.table.clearSelection()
    assert view.highlight() is None


def test_clicking_a_box_in_the_photo_selects_its_row(qtbot, window):
    needs(GROUP_PHOTO)
    result = open_and_wait(qtbot, window, GROUP_PHOTO)
    view, panel = window.image_tab.view, window.image_tab.results
    box = result.detections[2]
    QTest.mouseClick(view, Qt.MouseButton.LeftButton, pos=view.to_widget((box.x1 + box.x2) / 2, box.y2 - 2).toPoint())
    assert panel.selected() == 2 and view.highlight() == 2
    QTest.mouseClick(view, Qt.MouseButton.LeftButton, pos=view.to_widget(5, 5).toPoint())  # on no box
    assert panel.selected() is None and view.highlight() is None
    panel.table.selectRow(1)
    QTest.keyClick(view, Qt.Key.Key_Escape)
    assert panel.selected() is None and view.highlight() is None


def test_no_faces_says_so(qtbot, window, photos):
    open_and_wait(qtbot, window, photos["coffee"])
    panel = window.image_tab.results
    assert panel.heading.text() == "No faces found in coffee.jpg"
    assert not panel.table.isVisible() and panel.table.rowCount() == 0


@needs_weights
def test_objects_are_counted_per_class_in_their_colours(qtbot, make_window):
    needs(OBJECTS_PHOTO)
    window = make_window(str(WEIGHTS))
    result = open_and_wait(qtbot, window, OBJECTS_PHOTO, kind="yolov5")
    panel = window.image_tab.results
    counts: dict[str, int] = {}
    for det in result.detections:
        counts[det.label] = counts.get(det.label, 0) + 1
    assert len(counts) >= 2  # bottles and more: a legend worth the name
    legend = panel.legend.text()
    for label, n in counts.items():
        assert f"{hex_colour(colour_of(label))}" in legend and count_text(n, label) in legend
    assert [cell(panel, row, 1) for row in range(panel.table.rowCount())] == [d.label for d in result.detections]
    # Each row's thumbnail is framed in its class's colour.
    for row, det in enumerate(result.detections):
        thumb = panel.table.item(row, 0).data(Qt.ItemDataRole.DecorationRole)
        corner = thumb.pixelColor(0, 0)
        assert (corner.red(), corner.green(), corner.blue()) == colour_of(det.label)


def test_hidden_faces_stay_hidden_in_the_thumbnails_and_the_row_stays_selected(qtbot, window):
    needs(GROUP_PHOTO)
    result = open_and_wait(qtbot, window, GROUP_PHOTO)
    tab = window.image_tab
    tab.results.table.selectRow(1)
    window.view_options.set_hide("box")  # a redraw: the same detections, faces under solid boxes
    qtbot.waitUntil(lambda: tab.result is not result and not tab.is_busy(), timeout=TIMEOUT)
    assert tab.result.detections == result.detections
    for thumb in tab.result.thumbnails:
        middle = thumb.pixelColor(thumb.width() // 2, thumb.height() // 2)
        assert (middle.red(), middle.green(), middle.blue()) == (0, 0, 0)
    assert tab.results.selected() == 1 and tab.view.highlight() == 1


def test_a_new_photo_clears_the_selection(qtbot, window, photos):
    needs(GROUP_PHOTO)
    open_and_wait(qtbot, window, GROUP_PHOTO)
    tab = window.image_tab
    tab.results.table.selectRow(0)
    open_and_wait(qtbot, window, photos["astronaut"])
    assert tab.results.table.rowCount() == len(tab.result.detections) == 1
    assert tab.results.selected() is None and tab.view.highlight() is None


def test_the_panel_can_be_hidden_and_its_width_is_remembered(qtbot, window, make_window):
    pane = window.image_tab.pane
    action = next(a for a in window.photo_actions if a.text() == "&Results panel")
    assert pane.panel.isVisible() and action.isChecked()
    pane.setSizes([pane.width() - 250, 250])
    width = pane.sizes()[1]
    action.trigger()
    assert not pane.panel.isVisible() and not action.isChecked()
    window.close()
    again = make_window(first_run=False)
    pane = again.image_tab.pane
    assert not pane.panel.isVisible()
    again_action = next(a for a in again.photo_actions if a.text() == "&Results panel")
    assert not again_action.isChecked()
    again_action.trigger()
    assert pane.panel.isVisible()
    qtbot.waitUntil(lambda: pane.sizes()[1] > 0, timeout=TIMEOUT)  # the splitter lays out the panel shown
    assert pane.sizes()[1] == width


def test_the_view_menu_offers_zoom_and_the_panel_on_the_photo_tab_only(window):
    assert all(a.isEnabled() for a in window.photo_actions)
    window.tabs.setCurrentWidget(window.camera_tab)
    assert not any(a.isEnabled() for a in window.photo_actions)
    window.tabs.setCurrentWidget(window.image_tab)
    assert all(a.isEnabled() for a in window.photo_actions)
