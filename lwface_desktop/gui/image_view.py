"""A photo shown scaled to fit, aspect kept, sharp on high-DPI screens.

A photo is scaled here once per size change. Live frames change many times a second and
come already scaled to device_size() by the camera worker, so for them paintEvent only
draws: a 4K frame smooth-scaled here took 39-70 ms of the GUI thread per frame.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget


class ImageView(QWidget):
    painted = Signal()  # an image (not the placeholder) was drawn: the live view's "consumed"

    def __init__(self, placeholder: str, parent: QWidget | None = None):
        super().__init__(parent)
        self._placeholder = placeholder
        self._image: QImage | None = None
        self._pixmap: QPixmap | None = None  # _image scaled to the current size, in device pixels
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)

    def image(self) -> QImage | None:
        return self._image

    def set_image(self, image: QImage | None) -> None:
        self._image = image
        self._pixmap = None
        self.update()

    def device_size(self) -> tuple[int, int]:
        """The widget's size in device pixels: the largest a picture is shown."""
        dpr = self.devicePixelRatioF()
        return max(1, round(self.width() * dpr)), max(1, round(self.height() * dpr))

    def sizeHint(self) -> QSize:
        return QSize(800, 600)

    def resizeEvent(self, event) -> None:
        self._pixmap = None
        super().resizeEvent(event)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self._image is None or self._image.isNull():
            self._paint_placeholder(painter)
            return
        self._paint_image(painter)
        painter.end()
        self.painted.emit()

    def _paint_image(self, painter: QPainter) -> None:
        """The image scaled to fit, centred (a photo view also zooms: photo_view.PhotoView)."""
        pixmap = self._scaled_pixmap()
        shown = pixmap.deviceIndependentSize()
        painter.drawPixmap(QPointF((self.width() - shown.width()) / 2,
                                   (self.height() - shown.height()) / 2), pixmap)

    def _scaled_pixmap(self) -> QPixmap:
        # Scale once per size change, to device pixels, so the photo is crisp and repaints are cheap.
        dpr = self.devicePixelRatioF()
        target = fit_size(self._image.width(), self._image.height(), *self.device_size())
        if self._pixmap is None or (self._pixmap.width(), self._pixmap.height()) != target:
            image = self._image
            if (image.width(), image.height()) != target:  # a live frame comes at this size already
                image = image.scaled(QSize(*target), Qt.AspectRatioMode.IgnoreAspectRatio,
                                     Qt.TransformationMode.SmoothTransformation)
            self._pixmap = QPixmap.fromImage(image)
            self._pixmap.setDevicePixelRatio(dpr)
        return self._pixmap

    def _paint_placeholder(self, painter: QPainter) -> None:
        frame = QRectF(self.rect()).adjusted(12, 12, -12, -12)
        muted = self.palette().placeholderText().color()
        pen = QPen(QColor(muted), 2, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawRoundedRect(frame, 12, 12)
        font = painter.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        painter.setFont(font)
        painter.drawText(frame, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._placeholder)


def fit_size(width: int, height: int, max_width: int, max_height: int) -> tuple[int, int]:
    """width x height scaled, aspect kept, to the largest size within max_width x max_height
    (up or down): the size the view shows a picture at. The camera worker scales its frames
    to it, so the view has nothing left to scale."""
    scale = min(max_width / width, max_height / height)
    return max(1, min(max_width, round(width * scale))), max(1, min(max_height, round(height * scale)))
