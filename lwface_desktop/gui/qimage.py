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
