"""numpy <-> QImage (gui/qimage.py): what comes back owns its pixels whenever the QImage it
was read from is a temporary."""

import gc

import numpy as np
from PySide6.QtGui import QColor, QImage

from lwface_desktop.gui.qimage import qimage_to_rgb, rgb_to_qimage


def test_an_image_of_another_format_comes_back_as_pixels_of_its_own():
    image = QImage(33, 17, QImage.Format.Format_ARGB32)  # converted to RGB888 on the way
    image.fill(QColor(200, 30, 60))
    rgb = qimage_to_rgb(image)
    # The converted copy is gone once qimage_to_rgb returns: the array must not point into it.
    assert rgb.flags.owndata
    del image
    gc.collect()
    others = [QImage(33, 17, QImage.Format.Format_RGB888) for _ in range(20)]  # memory freed is reused
    for other in others:
        other.fill(QColor(1, 2, 3))
    assert rgb.shape == (17, 33, 3)
    assert (rgb == (200, 30, 60)).all()


def test_an_rgb888_image_is_read_in_place_and_round_trips():
    pixels = np.random.default_rng(1).integers(0, 256, (17, 33, 3), dtype=np.uint8)  # rows not 4-byte aligned
    image = rgb_to_qimage(pixels)
    rgb = qimage_to_rgb(image)
    assert not rgb.flags.owndata  # a view, valid while image lives
    assert np.array_equal(rgb, pixels)
