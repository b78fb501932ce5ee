"""A photo shown scaled to fit, aspect kept, sharp on high-DPI screens."""

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

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self.update()

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
        pixmap = self._scaled_pixmap()
        shown = pixmap.deviceIndependentSize()
        painter.drawPixmap(QPointF((self.width() - shown.width()) / 2,
                                   (self.height() - shown.height()) / 2), pixmap)
        painter.end()
        self.painted.emit()

    def _scaled_pixmap(self) -> QPixmap:
        # Scale once per size change, to device pixels, so the photo is crisp and repaints are cheap.
        dpr = self.devicePixelRatioF()
        target = self._image.size().scaled(self.size() * dpr, Qt.AspectRatioMode.KeepAspectRatio)
        if self._pixmap is None or self._pixmap.size() != target:
            scaled = self._image.scaled(target, Qt.AspectRatioMode.KeepAspectRatio,
                                        Qt.TransformationMode.SmoothTransformation)
            self._pixmap = QPixmap.fromImage(scaled)
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
