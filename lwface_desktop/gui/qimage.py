"""numpy <-> QImage, the one place the two meet."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """An owned QImage copy of an HxWx3 uint8 RGB array, safe to send across threads."""
    rgb = np.ascontiguousarray(rgb)
    height, width = rgb.shape[:2]
    # RGB888 rows are not 4-byte aligned: pass bytesPerLine, then copy so Qt owns the pixels.
    return QImage(rgb.data, width, height, rgb.strides[0], QImage.Format.Format_RGB888).copy()


def qimage_to_rgb(image: QImage) -> np.ndarray:
    """An HxWx3 uint8 RGB array of image: a view of its pixels when it is RGB888 (valid while
    image lives and is not changed), else an array of its own (the converted QImage is freed
    when this returns: a view of it would read freed memory)."""
    if image.format() != QImage.Format.Format_RGB888:
        converted = image.convertToFormat(QImage.Format.Format_RGB888)  # alive until copied out
        return _pixels(converted).copy()
    return _pixels(image)


def _pixels(image: QImage) -> np.ndarray:
    """A view of an RGB888 image's pixels, without the padding at the end of each row."""
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, :image.width() * 3].reshape(image.height(), image.width(), 3)
