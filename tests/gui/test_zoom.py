"""Zoom and pan on the Open image tab's photo: the wheel zooms about the pointer, keys and the
View menu zoom in, out, to fit and to 100% (photo pixels), a drag pans; none of it detects
again or changes what was found. What is painted is checked against the photo's pixels."""

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from lwface_desktop.gui import image_tab as image_tab_module
from lwface_desktop.gui import workers
from lwface_desktop.gui.image_view import ImageView
from lwface_desktop.gui.photo_view import MAX_ZOOM, PhotoView
from tests.conftest import SHARED
from tests.gui.conftest import needs_file
from tests.gui.conftest import open_photo_and_wait as open_and_wait

TIMEOUT = 20_000
GROUP_PHOTO = SHARED / "faces" / "2007_007763.jpg"  # 500 x 375, seven faces


@pytest.fixture
def jobs_started(monkeypatch) -> list:
    """The name of every job the tab starts from now on (a zoom must start none)."""
    started = []
    start_job = workers.start_job

    def recorded(fn, name="job", **kwargs):
        started.append(name)
        return start_job(fn, name=name, **kwargs)

    monkeypatch.setattr(image_tab_module.workers, "start_job", recorded)
    return started


def wheel(view, point: QPointF, notches: float) -> None:
    event = QWheelEvent(point, view.mapToGlobal(point), QPoint(), QPoint(0, round(120 * notches)),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view, event)


def key(view, k) -> None:
    QTest.keyClick(view, k)


def shown_colour(shown, point: QPointF):
    c = shown.pixelColor(int(point.x()), int(point.y()))  # the screen pixel the point is in
    return c.red(), c.green(), c.blue()


def photo_colour(view, point: QPointF):
    """The view copy's pixel under a widget point (the view copy is the photo itself here)."""
    at = view.to_photo(point)
    c = view.image().pixelColor(int(at.x()), int(at.y()))
    return c.red(), c.green(), c.blue()


def test_the_photo_tab_zooms_and_the_live_tab_only_draws(window):
    assert isinstance(window.image_tab.view, PhotoView)
    assert type(window.camera_tab.view) is ImageView  # live frames keep the plain, pre-scaled path


def test_wheel_zooms_about_the_pointer_and_nothing_is_detected_again(qtbot, window, photos, jobs_started):
    result = open_and_wait(qtbot, window, photos["astronaut"])
    detections = list(result.detections)
    jobs_started.clear()
    view = window.image_tab.view
    assert view.is_fitted() and view.zoom_text().startswith("Fit (")
    fit = view.zoom()
    pointer = QPointF(view.width() * 0.3, view.height() * 0.4)
    under = view.to_photo(pointer)
    wheel(view, pointer, 4)
    assert not view.is_fitted() and view.zoom() == pytest.approx(fit * 1.25 ** 4)
    shown = view.photo_rect_shown()
    assert shown.width() < 512 and shown.height() < 512  # the photo now fills the view both ways
    after = view.to_photo(pointer)  # the same photo point stays under the pointer
    assert (after.x(), after.y()) == pytest.approx((under.x(), under.y()), abs=1)
    assert window.statusBar().currentMessage() == f"Zoom {view.zoom_text()}"
    wheel(view, pointer, -7)  # out past fit: it stops at fit, and fits again
    assert view.is_fitted()
    # What was found is untouched, and no job ran for any of it.
    assert window.image_tab.result is result and result.detections == detections
    assert jobs_started == [] and not workers.live_workers()


def test_keys_zoom_in_out_to_fit_and_to_100_percent(qtbot, window, jobs_started):
    needs_file(GROUP_PHOTO)
    result = open_and_wait(qtbot, window, GROUP_PHOTO)
    jobs_started.clear()
    view = window.image_tab.view
    fit = view.zoom()
    key(view, Qt.Key.Key_Plus)
    assert view.zoom() == pytest.approx(fit * 1.25)
    key(view, Qt.Key.Key_Minus)
    assert view.is_fitted()
    key(view, Qt.Key.Key_1)
    assert view.zoom() == 1.0 and view.zoom_text() == "100%"
    # 100% is one photo pixel per device pixel: the part shown is the view's size in photo pixels.
    shown = view.photo_rect_shown()
    dpr = view.devicePixelRatioF()
    expected = (min(result.analysis.width, view.width() * dpr), min(result.analysis.height, view.height() * dpr))
    assert (shown.width(), shown.height()) == pytest.approx(expected, abs=1)
    key(view, Qt.Key.Key_F)
    assert view.is_fitted()
    for _ in range(40):
        key(view, Qt.Key.Key_Equal)  # = is + without Shift
    assert view.zoom() == MAX_ZOOM
    key(view, Qt.Key.Key_0)
    assert view.is_fitted()
    assert window.image_tab.result is result and jobs_started == []


def test_the_view_menu_zooms_with_the_usual_shortcuts(qtbot, window, photos):
    from PySide6.QtGui import QKeySequence

    open_and_wait(qtbot, window, photos["astronaut"])
    view = window.image_tab.view
    zoom_in, zoom_out, fit, actual = window.photo_actions[:4]
    assert QKeySequence(QKeySequence.StandardKey.ZoomIn) in zoom_in.shortcuts()
    assert QKeySequence("Ctrl+=") in zoom_in.shortcuts()
    assert QKeySequence(QKeySequence.StandardKey.ZoomOut) in zoom_out.shortcuts()
    assert fit.shortcut() == QKeySequence("Ctrl+0") and actual.shortcut() == QKeySequence("Ctrl+1")
    zoom_in.trigger()
    zoomed = view.zoom()
    assert not view.is_fitted()
    zoom_out.trigger()
    assert view.is_fitted() and view.zoom() < zoomed
    actual.trigger()
    assert view.zoom() == 1.0
    fit.trigger()
    assert view.is_fitted()


def test_drag_pans_the_zoomed_photo_and_a_click_does_not(qtbot, window, photos, jobs_started):
    result = open_and_wait(qtbot, window, photos["astronaut"])
    jobs_started.clear()
    view = window.image_tab.view
    view.actual_size()
    view.zoom_in()
    view.zoom_in()  # 156%: the 512 px photo is larger than the view
    assert view.cursor().shape() == Qt.CursorShape.OpenHandCursor
    start = view.photo_rect_shown()
    middle = QPoint(view.width() // 2, view.height() // 2)
    QTest.mousePress(view, Qt.MouseButton.LeftButton, pos=middle)
    assert view.cursor().shape() == Qt.CursorShape.ClosedHandCursor
    QTest.mouseMove(view, middle + QPoint(40, 30))
    QTest.mouseRelease(view, Qt.MouseButton.LeftButton, pos=middle + QPoint(40, 30))
    moved = view.photo_rect_shown()
    scale = view.zoom() / view.devicePixelRatioF()  # logical pixels per photo pixel
    # The photo follows the pointer: what is shown moves the other way, by the drag in photo pixels.
    assert (moved.x() - start.x(), moved.y() - start.y()) == pytest.approx((-40 / scale, -30 / scale), abs=1)
    assert view.cursor().shape() == Qt.CursorShape.OpenHandCursor
    QTest.mouseClick(view, Qt.MouseButton.LeftButton, pos=middle)
    assert view.photo_rect_shown() == moved
    # Dragged far past the edge, the photo stops at its corner.
    for _ in range(3):
        QTest.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
        QTest.mouseMove(view, QPoint(view.width() - 5, view.height() - 5))
        QTest.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(view.width() - 5, view.height() - 5))
    corner = view.photo_rect_shown()
    assert (corner.x(), corner.y()) == pytest.approx((0, 0), abs=0.5)
    assert window.image_tab.result is result and jobs_started == []


def test_what_is_painted_is_the_photo_at_the_zoom_shown(qtbot, window):
    """At 100% and far in, each screen pixel is the photo's pixel beneath it (the view copy of
    this 500 px photo is the photo itself): 100% means photo pixels, and zoomed-in pixels are
    drawn as crisp blocks."""
    needs_file(GROUP_PHOTO)
    open_and_wait(qtbot, window, GROUP_PHOTO)
    view = window.image_tab.view
    assert view.image().width() == 500  # not scaled down for the view
    # A grid of screen points, away from the zoom badge in the bottom-right corner.
    points = [QPointF(x, y) for x in range(3, view.width() - 3, 23) for y in range(3, view.height() - 3, 19)
              if x < view.width() - 120 or y < view.height() - 50]
    for zoom in (view.actual_size, lambda: [view.zoom_in() for _ in range(8)]):
        zoom()
        shown = view.grab().toImage()
        checked = 0
        for point in points:
            at = view.to_photo(point)
            if not (0 <= at.x() < 500 and 0 <= at.y() < 375):
                continue
            # The centre of the screen pixel's photo pixel, so rounding cannot pick its neighbour.
            centre = view.to_widget(int(at.x()) + 0.5, int(at.y()) + 0.5)
            assert shown_colour(shown, centre) == photo_colour(view, centre)
            checked += 1
        assert checked > 100
    assert view.zoom() > 5


def test_a_row_selected_while_zoomed_in_is_brought_into_view(qtbot, window):
    needs_file(GROUP_PHOTO)
    result = open_and_wait(qtbot, window, GROUP_PHOTO)
    view, panel = window.image_tab.view, window.image_tab.results
    view.zoom_in(QPointF(2, 2))
    for _ in range(6):
        view.zoom_in(QPointF(2, 2))  # far in, on the top-left corner
    zoom = view.zoom()
    for row, box in enumerate(result.detections):
        panel.table.selectRow(row)
        shown = view.photo_rect_shown()
        assert shown.contains(QPointF(box.x1, box.y1)) and shown.contains(QPointF(box.x2 - 1, box.y2 - 1))
        assert view.zoom() <= zoom


def test_zoom_survives_a_redraw_of_the_same_photo_and_resets_for_another(qtbot, window, photos):
    result = open_and_wait(qtbot, window, photos["astronaut"])
    view = window.image_tab.view
    view.zoom_in()
    view.zoom_in()
    zoom, shown = view.zoom(), view.photo_rect_shown()
    window.view_options.set_landmarks(True)  # a redraw of the same photo, without detecting
    qtbot.waitUntil(lambda: window.image_tab.result is not result and not window.image_tab.is_busy(),
                    timeout=TIMEOUT)
    assert view.zoom() == zoom and view.photo_rect_shown() == shown
    open_and_wait(qtbot, window, photos["chelsea"])
    assert view.is_fitted()


def test_on_a_high_dpi_screen_100_percent_is_still_one_photo_pixel_per_device_pixel(qtbot, window, photos,
                                                                                     monkeypatch):
    open_and_wait(qtbot, window, photos["astronaut-12mp"])
    view = window.image_tab.view
    monkeypatch.setattr(view, "devicePixelRatioF", lambda: 2.0)
    view.actual_size()
    shown = view.photo_rect_shown()
    assert (shown.width(), shown.height()) == pytest.approx((view.width() * 2, view.height() * 2), abs=1)
    pixmap, _ = view._shown_pixmap()
    assert (pixmap.width(), pixmap.height()) == (round(view.width() * 2), round(view.height() * 2))
    assert pixmap.devicePixelRatio() == 2.0  # drawn in device pixels: crisp


def test_zoomed_out_between_fit_and_100_percent_the_photo_is_shown_scaled_down(qtbot, window, photos):
    """A 12-megapixel photo between fit and 100%: drawn from a halved copy of the view copy,
    each screen pixel is the photo around the point beneath it (the mean of its neighbourhood)."""
    import numpy as np

    from lwface_desktop.gui.qimage import qimage_to_rgb

    open_and_wait(qtbot, window, photos["astronaut-12mp"])
    view = window.image_tab.view
    view.actual_size()
    for _ in range(4):
        view.zoom_out()  # 41%: a view-copy pixel is less than half a screen pixel
    assert not view.is_fitted() and view.zoom() * view.image().width() / window.image_tab.result.analysis.width < 0.5
    shown = qimage_to_rgb(view.grab().toImage())
    copy = qimage_to_rgb(view.image()).astype(float)
    per_photo_pixel = view.image().width() / window.image_tab.result.analysis.width
    close = checked = 0
    for x in range(10, view.width() - 130, 17):
        for y in range(10, view.height() - 10, 13):
            at = view.to_photo(QPointF(x + 0.5, y + 0.5))
            cx, cy = round(at.x() * per_photo_pixel), round(at.y() * per_photo_pixel)
            if not (3 <= cx < copy.shape[1] - 3 and 3 <= cy < copy.shape[0] - 3):
                continue
            around = copy[cy - 2:cy + 3, cx - 2:cx + 3].reshape(-1, 3).mean(axis=0)
            checked += 1
            close += bool(np.abs(shown[y, x] - around).max() < 30)
    assert checked > 200 and close / checked > 0.9
