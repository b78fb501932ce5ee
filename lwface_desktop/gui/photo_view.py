"""The Open image tab's view: a photo that zooms (wheel, keys, Fit, 100%), pans by dragging and
highlights one detection, all without detecting again: only the view copy is drawn anew.

Zoom is in photo pixels: 100% shows one pixel of the full-resolution photo per device pixel
(so on a 2x screen a photo at 100% takes half the logical size it would on a 1x one). The view
copy the tab decodes is at most VIEW_MAX_SIDE (2560) pixels, so past that (a 12-megapixel
photo at 100%, or any photo zoomed far in) it is upscaled: smoothly while a view pixel spans
under SHARP_FROM device pixels, then as crisp blocks, as image viewers show pixels. Asking
for a larger decode on zoom would cost a job and hundreds of MB for the few who zoom that far.

Each paint draws a pixmap in device pixels, cached until the zoom, position or size change
(a highlight or the badge costs a draw of it). Fitted, it is the photo area-averaged to the
view's size; zoomed, only the part in view, drawn from the view copy halved as often as its
pixels still outnumber the screen's (a mip level, made when first needed), so that no paint
scales a 2560 px copy whole: a zoom step or a pan of a 12 MP photo paints in 2-7 ms here
(benchmarks/zoom_paint.py), against 66 ms for one smooth scale of the copy. Live frames keep
the plain ImageView: nothing here slows them.
"""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor, QImage, QKeySequence, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QApplication, QMenu, QWidget

from lwface_desktop.core.detection import Detection
from lwface_desktop.core.palette import colour_of
from lwface_desktop.gui.image_view import ImageView
from lwface_desktop.gui.qimage import qimage_to_rgb, rgb_to_qimage

ZOOM_STEP = 1.25      # one wheel notch or key press
MAX_ZOOM = 16.0       # device pixels per photo pixel: 1600%
SHARP_FROM = 3.0      # device pixels per view-copy pixel from which pixels are shown as blocks
MIP_MIN_SIDE = 64     # pixels: the smallest halved copy kept for drawing zoomed out
SHOW_MARGIN = 0.1     # of the view kept around a box brought into view
DIM = QColor(0, 0, 0, 110)  # over the photo around a highlighted box

VIEW_TIP = ("Wheel: zoom about the pointer · drag: move the zoomed photo · click a box: select it in the "
            "results\nKeys (click the photo first): + and − zoom, F or 0 fits the photo, 1 shows 100%, Esc "
            "selects no box (also View › Zoom: Ctrl++, Ctrl+−, Ctrl+0, Ctrl+1)")


class PhotoView(ImageView):
    zoom_changed = Signal(str)  # the zoom as the badge says it: "250%", "Fit (31%)"
    box_clicked = Signal(object)  # the index of the detection clicked (the smallest box there), None: no box

    def __init__(self, placeholder: str, parent: QWidget | None = None):
        super().__init__(placeholder, parent)
        self._photo_size = (1, 1)             # the full-resolution photo's, which boxes and zoom are in
        self._detections: list[Detection] = []
        self._highlight: int | None = None
        self._zoom: float | None = None       # device pixels per photo pixel; None: fit the view
        self._centre = QPointF()              # the photo point shown at the view's centre (zoomed)
        self._press: QPointF | None = None    # where the left button went down
        self._drag: QPointF | None = None     # the last point of a pan in progress
        self._cache: tuple[tuple, QPixmap] | None = None  # (what it shows, the pixmap)
        self._mips: list[tuple[np.ndarray, QPixmap]] = []  # the view copy, then halved again and again
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setToolTip(VIEW_TIP)

    # What is shown
    def set_photo(self, image: QImage | None, photo_size: tuple[int, int] | None = None,
                  detections: list[Detection] | None = None, keep_view: bool = False) -> None:
        """Show image, the view copy of a photo of photo_size (full-resolution pixels, which
        detections' boxes are in). keep_view: the same photo drawn again (faces hidden, say):
        zoom, position and highlight stay; else it is shown fitted, nothing highlighted."""
        self._photo_size = photo_size or ((image.width(), image.height()) if image is not None else (1, 1))
        self._detections = list(detections or [])
        if not keep_view or self._highlight is not None and self._highlight >= len(self._detections):
            self._highlight = None
        if not keep_view:
            self._zoom = None
        self._cache = None
        self._mips = []
        self.set_image(image)
        self._view_changed()

    def highlight(self) -> int | None:
        return self._highlight

    def set_highlight(self, index: int | None) -> None:
        """Outline detection index (dimming the rest of the photo) and bring it into view; None: none."""
        if index is not None and not 0 <= index < len(self._detections):
            index = None
        if index == self._highlight:
            return
        self._highlight = index
        if index is not None:
            self.show_box(index)
        self.update()

    def show_box(self, index: int) -> None:
        """Zoomed in, move (and zoom out if it must) so that detection index is in view."""
        if self._zoom is None:
            return  # the whole photo is in view
        box = self._detections[index]
        width, height = self._device_size()
        room = 1 - 2 * SHOW_MARGIN
        fits = min(width * room / max(1.0, box.x2 - box.x1), height * room / max(1.0, box.y2 - box.y1))
        shown = self.photo_rect_shown()
        inside = shown.contains(QRectF(box.x1, box.y1, box.x2 - box.x1, box.y2 - box.y1))
        if inside and self._zoom <= fits:
            return
        self._centre = QPointF((box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2)
        self._set_zoom(min(self._zoom, fits), None)

    # Zoom
    def zoom(self) -> float:
        """Device pixels per photo pixel, as shown now (1.0 is 100%)."""
        return self._fit_zoom() if self._zoom is None else self._zoom

    def is_fitted(self) -> bool:
        return self._zoom is None

    def zoom_text(self) -> str:
        percent = f"{self.zoom() * 100:.0f}%"
        return f"Fit ({percent})" if self._zoom is None else percent

    def zoom_in(self, about: QPointF | None = None) -> None:
        self._set_zoom(self.zoom() * ZOOM_STEP, about)

    def zoom_out(self, about: QPointF | None = None) -> None:
        self._set_zoom(self.zoom() / ZOOM_STEP, about)

    def fit(self) -> None:
        self._zoom = None
        self._view_changed(announce=True)

    def actual_size(self) -> None:
        """100%: one photo pixel per device pixel."""
        self._set_zoom(1.0, None, step=False)

    def photo_rect_shown(self) -> QRectF:
        """The part of the photo in view, in photo pixels."""
        scale, origin = self._transform()
        shown = QRectF(-origin.x() / scale, -origin.y() / scale, self.width() / scale, self.height() / scale)
        return shown.intersected(QRectF(0, 0, *self._photo_size))

    def to_widget(self, x: float, y: float) -> QPointF:
        """A photo point (full-resolution pixels) in the widget's coordinates."""
        scale, origin = self._transform()
        return QPointF(origin.x() + x * scale, origin.y() + y * scale)

    def to_photo(self, point: QPointF) -> QPointF:
        scale, origin = self._transform()
        return QPointF((point.x() - origin.x()) / scale, (point.y() - origin.y()) / scale)

    def _fit_zoom(self) -> float:
        width, height = self._device_size()
        return min(width / self._photo_size[0], height / self._photo_size[1])

    def _device_size(self) -> tuple[float, float]:
        dpr = self.devicePixelRatioF()
        return self.width() * dpr, self.height() * dpr

    def _set_zoom(self, zoom: float, about: QPointF | None, step: bool = True) -> None:
        """Zoom to zoom (within 100% or fit, whichever is less, and MAX_ZOOM), keeping the photo
        point under about (the view's centre by default) where it is. A zoom that reaches fit,
        or a step (not a jump) that passes it, stops there, fitted (it follows the window's size)."""
        if self._image is None:
            return
        fit, was = self._fit_zoom(), self.zoom()
        zoom = min(max(zoom, min(fit, 1.0)), max(MAX_ZOOM, fit))
        about = about if about is not None else QPointF(self.width() / 2, self.height() / 2)
        fixed = self.to_photo(about)
        if abs(zoom - fit) < fit * 1e-4 or step and (was - fit) * (zoom - fit) < 0:  # a step past fit stops there
            self._zoom = None
        else:
            self._zoom = zoom
            scale = zoom / self.devicePixelRatioF()
            self._centre = QPointF(fixed.x() - (about.x() - self.width() / 2) / scale,
                                   fixed.y() - (about.y() - self.height() / 2) / scale)
        self._view_changed(announce=True)

    def _transform(self) -> tuple[float, QPointF]:
        """(logical pixels per photo pixel, where the photo's top-left corner is in the widget)."""
        dpr = self.devicePixelRatioF()
        scale = self.zoom() / dpr
        width, height = self._photo_size
        if self._zoom is None:
            centre = QPointF(width / 2, height / 2)
        else:
            centre = QPointF(_clamped(self._centre.x(), width, self.width() / scale),
                             _clamped(self._centre.y(), height, self.height() / scale))
        # On a whole device pixel, so the photo's pixels fall on the screen's.
        return scale, QPointF(round((self.width() / 2 - centre.x() * scale) * dpr) / dpr,
                              round((self.height() / 2 - centre.y() * scale) * dpr) / dpr)

    def _pannable(self) -> bool:
        shown = self.photo_rect_shown()
        return self._image is not None and (shown.width() < self._photo_size[0] - 0.5
                                            or shown.height() < self._photo_size[1] - 0.5)

    def _view_changed(self, announce: bool = False) -> None:
        """After a change of zoom, position, size or photo; announce: the user zoomed (zoom_changed)."""
        if self._zoom is not None:  # the centre as shown (clamped), so a pan starts from what is seen
            self._centre = self.to_photo(QPointF(self.width() / 2, self.height() / 2))
        if self._drag is None:
            if self._pannable():
                self.setCursor(Qt.CursorShape.OpenHandCursor)
            else:
                self.unsetCursor()
        self.update()
        if announce and self._image is not None:
            self.zoom_changed.emit(self.zoom_text())

    # Painting
    def _paint_image(self, painter: QPainter) -> None:
        pixmap, where = self._shown_pixmap()
        painter.drawPixmap(where, pixmap)
        if self._highlight is not None:
            self._paint_highlight(painter, self._detections[self._highlight])
        self._paint_badge(painter)

    def _shown_pixmap(self) -> tuple[QPixmap, QPointF]:
        """What paintEvent draws (and where): cached until the zoom, position or size change."""
        dpr = self.devicePixelRatioF()
        scale, origin = self._transform()
        per_view_pixel = self.zoom() * self._image.width() / self._photo_size[0]  # device px per view-copy px
        level = self._level_for(per_view_pixel)
        source = self._mip(level)
        if self._zoom is None:
            # Fitted: the whole photo, area-averaged once per size from the level just above it.
            size = QSize(max(1, round(self._image.width() * per_view_pixel)),
                         max(1, round(self._image.height() * per_view_pixel)))
            key: tuple = ("fit", size.width(), size.height(), dpr)
            if self._cache is None or self._cache[0] != key:
                pixmap = source.scaled(size, Qt.AspectRatioMode.IgnoreAspectRatio,
                                       Qt.TransformationMode.SmoothTransformation)
                pixmap.setDevicePixelRatio(dpr)
                self._cache = (key, pixmap)
            return self._cache[1], origin
        # Zoomed: only the part in view, from the level whose pixels are closest above the
        # screen's (bilinear; as blocks once a pixel spans SHARP_FROM device pixels).
        key = ("part", self.width(), self.height(), dpr, origin.x(), origin.y(), scale)
        if self._cache is None or self._cache[0] != key:
            pixmap = QPixmap(max(1, round(self.width() * dpr)), max(1, round(self.height() * dpr)))
            pixmap.setDevicePixelRatio(dpr)
            pixmap.fill(Qt.GlobalColor.transparent)
            part = QPainter(pixmap)
            part.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, per_view_pixel < SHARP_FROM)
            width, height = self._photo_size
            target = QRectF(origin.x(), origin.y(), width * scale, height * scale).intersected(QRectF(self.rect()))
            per_photo_pixel = source.width() / width  # source pixels per photo pixel
            part.drawPixmap(target, source, QRectF((target.x() - origin.x()) / scale * per_photo_pixel,
                                                   (target.y() - origin.y()) / scale * per_photo_pixel,
                                                   target.width() / scale * per_photo_pixel,
                                                   target.height() / scale * per_photo_pixel))
            part.end()
            self._cache = (key, pixmap)
        return self._cache[1], QPointF()

    def _level_for(self, per_view_pixel: float) -> int:
        """The mip level to draw from: halved as often as the view copy's pixels still outnumber
        the screen's, down to MIP_MIN_SIDE."""
        level = 0
        while per_view_pixel * 2 ** (level + 1) <= 1.0 and max(self._image.width(), self._image.height()) >> (
                level + 1) >= MIP_MIN_SIDE:
            level += 1
        return level

    def _mip(self, level: int) -> QPixmap:
        """The view copy halved level times (area-averaged), made when first needed: halving
        a 2560 px copy takes some 6 ms, a smooth scale of it to any size 25-65 ms."""
        if not self._mips:
            self._mips = [(qimage_to_rgb(self._image), QPixmap.fromImage(self._image))]
        while len(self._mips) <= level:
            rgb = self._mips[-1][0]
            half = cv2.resize(rgb, (max(1, rgb.shape[1] // 2), max(1, rgb.shape[0] // 2)), interpolation=cv2.INTER_AREA)
            self._mips.append((half, QPixmap.fromImage(rgb_to_qimage(half))))
        return self._mips[level][1]

    def _paint_highlight(self, painter: QPainter, box: Detection) -> None:
        top_left, bottom_right = self.to_widget(box.x1, box.y1), self.to_widget(box.x2, box.y2)
        rect = QRectF(top_left, bottom_right).adjusted(-3, -3, 3, 3)  # just outside the drawn box
        around = QPainterPath()  # the photo around the box (not the empty view beside a small photo)
        around.addRect(QRectF(self.to_widget(0, 0), self.to_widget(*self._photo_size)))
        inside = QPainterPath()
        inside.addRect(rect)
        painter.fillPath(around.subtracted(inside), DIM)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(QColor("white"), 5))
        painter.drawRect(rect)
        painter.setPen(QPen(QColor(*colour_of(box.label)), 3))
        painter.drawRect(rect)

    def _paint_badge(self, painter: QPainter) -> None:
        text = self.zoom_text()
        metrics = painter.fontMetrics()
        width, height = metrics.horizontalAdvance(text) + 12, metrics.height() + 6
        badge = QRectF(self.width() - width - 8, self.height() - height - 8, width, height)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 150))
        painter.drawRoundedRect(badge, 4, 4)
        painter.setPen(QColor("white"))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)

    # Input
    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._cache = None
        self._view_changed()

    def wheelEvent(self, event) -> None:
        steps = event.angleDelta().y() / 120  # a notch is 120; touchpads and fine wheels send less
        if not steps or self._image is None:
            event.ignore()
            return
        self._set_zoom(self.zoom() * ZOOM_STEP ** steps, event.position())
        event.accept()

    def keyPressEvent(self, event) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_in()
        elif key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self.zoom_out()
        elif key in (Qt.Key.Key_0, Qt.Key.Key_F):
            self.fit()
        elif key == Qt.Key.Key_1:
            self.actual_size()
        elif key == Qt.Key.Key_Escape and self._highlight is not None:
            self.box_clicked.emit(None)  # as a click beside every box: nothing selected
        else:
            super().keyPressEvent(event)

    def mousePressEvent(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._image is None:
            super().mousePressEvent(event)
            return
        self._press = event.position()
        if self._pannable():
            self._drag = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event) -> None:
        if self._drag is None:
            super().mouseMoveEvent(event)
            return
        scale = self.zoom() / self.devicePixelRatioF()
        moved = event.position() - self._drag
        self._drag = event.position()
        self._centre = QPointF(self._centre.x() - moved.x() / scale, self._centre.y() - moved.y() / scale)
        self._view_changed()

    def mouseReleaseEvent(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._press is None:
            super().mouseReleaseEvent(event)
            return
        press, self._press, self._drag = self._press, None, None
        self._view_changed()  # the open hand again (or none)
        if (event.position() - press).manhattanLength() < QApplication.startDragDistance():
            self.box_clicked.emit(self.box_at(event.position()))  # a click, not a pan

    def box_at(self, point: QPointF) -> int | None:
        """The detection under a widget point: the smallest box there (a face inside a person)."""
        at = self.to_photo(point)
        under = [(d.x2 - d.x1) * (d.y2 - d.y1) for d in self._detections]
        hits = [i for i, d in enumerate(self._detections) if d.x1 <= at.x() < d.x2 and d.y1 <= at.y() < d.y2]
        return min(hits, key=under.__getitem__) if hits else None


def _clamped(centre: float, photo: float, view: float) -> float:
    """A centre (photo pixels, on one axis) that keeps the photo covering the view, or the
    photo's middle when it is smaller than the view."""
    if photo <= view:
        return photo / 2
    return min(max(centre, view / 2), photo - view / 2)


def add_zoom_actions(menu: QMenu, view: PhotoView) -> list[QAction]:
    """View › Zoom in (Ctrl++ or Ctrl+=), Zoom out (Ctrl+−), Fit the photo (Ctrl+0), 100% (Ctrl+1)."""
    entries = (("Zoom &in", [QKeySequence.StandardKey.ZoomIn, QKeySequence("Ctrl+=")], view.zoom_in),
               ("Zoom &out", [QKeySequence.StandardKey.ZoomOut], view.zoom_out),
               ("&Fit the photo", [QKeySequence("Ctrl+0")], view.fit),
               ("&100% (photo pixels)", [QKeySequence("Ctrl+1")], view.actual_size))
    actions = []
    for text, keys, slot in entries:
        action = menu.addAction(text)
        action.setShortcuts(keys)
        action.triggered.connect(lambda _checked=False, slot=slot: slot())
        actions.append(action)
    return actions
