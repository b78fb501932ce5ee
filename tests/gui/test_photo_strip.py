"""The film strip with a big list (gui/photo_strip.py, gui/strip_model.py): thumbnails kept
are bounded (those in view never dropped), a dropped one is asked for again when scrolled
to, and stepping skips the skipped files. Made-up paths: the strip never decodes."""

from pathlib import Path

import numpy as np
import pytest

from lwface_desktop.core.detection import Detection
from lwface_desktop.core.photo_folder import PhotoList, Skipped
from lwface_desktop.gui.photo_queue import Finding, PhotoCount
from lwface_desktop.gui.photo_strip import PhotoStrip
from lwface_desktop.gui.qimage import rgb_to_qimage
from lwface_desktop.gui.strip_model import PENDING, THUMBNAILS_KEPT
from tests.gui.conftest import SETTLE_MS

PHOTOS = 3 * THUMBNAILS_KEPT


@pytest.fixture
def strip(qtbot):
    strip = PhotoStrip()
    qtbot.addWidget(strip)
    strip.resize(900, 200)
    found = PhotoList(photos=[Path(f"/photos/IMG_{i:04d}.jpg") for i in range(PHOTOS)],
                      skipped=[Skipped(Path("/photos/notes.txt"), "not a JPEG")], skipped_count=1)
    strip.show_list(found)
    qtbot.waitExposed(strip)
    return strip


def count(row: int, faces: int = 1) -> PhotoCount:
    pixels = np.full((72, 96, 3), row % 256, np.uint8)
    return PhotoCount(Path(f"/photos/IMG_{row:04d}.jpg"), Finding("yunet", 0.55),
                      [Detection(0, 0, 10, 10, 0.9, "face")] * faces, "face", 4000, 3000, rgb_to_qimage(pixels))


def test_thumbnails_kept_are_bounded_and_those_in_view_stay(qtbot, strip):
    in_view = strip.rows_in_view()
    assert 0 < len(in_view) < THUMBNAILS_KEPT and in_view.start == 0
    for row in range(PHOTOS):
        strip.show_count(row, count(row, faces=row % 3))
    assert strip.model.thumbnails_kept() == THUMBNAILS_KEPT
    assert all(strip.model.has_thumbnail(row) for row in in_view)  # the first ones, though the oldest
    assert strip.model.has_thumbnail(PHOTOS - 1)  # the newest
    assert strip.text(PHOTOS - 1) == f"IMG_{PHOTOS - 1:04d}.jpg\n2 faces"  # every count is kept, as text
    assert strip.text(1) == "IMG_0001.jpg\n1 face" and strip.text(3) == "IMG_0003.jpg\nno faces"


def test_a_dropped_thumbnail_is_asked_for_when_scrolled_to(qtbot, strip):
    for row in range(PHOTOS):
        strip.show_count(row, count(row))
    middle = PHOTOS // 2  # neither in view nor among the newest: dropped
    assert not strip.model.has_thumbnail(middle)
    with qtbot.waitSignal(strip.thumbnails_wanted, timeout=SETTLE_MS) as wanted:
        strip.set_current(middle)  # scrolls it into view
    rows = wanted.args[0]
    assert middle in rows and rows == [row for row in strip.rows_in_view() if not strip.model.has_thumbnail(row)]
    for row in rows:  # as the queue answers
        strip.show_count(row, count(row))
    assert all(strip.model.has_thumbnail(row) for row in strip.rows_in_view())
    assert strip.model.thumbnails_kept() == THUMBNAILS_KEPT


def test_stepping_stays_on_photos_and_reset_counts_forgets_every_count(qtbot, strip):
    chosen = []
    strip.chosen.connect(chosen.append)
    strip.set_current(PHOTOS - 2)
    strip.step(1)
    strip.step(1)  # the last photo: the skipped file after it is not stepped onto
    assert strip.current_path() == Path(f"/photos/IMG_{PHOTOS - 1:04d}.jpg")
    assert [p.name for p in chosen] == [f"IMG_{PHOTOS - 2:04d}.jpg", f"IMG_{PHOTOS - 1:04d}.jpg"]
    assert strip.text(PHOTOS) == "notes.txt\nskipped: not a JPEG" and not strip.is_enabled(PHOTOS)
    strip.step(-1)
    assert strip.current_path().name == f"IMG_{PHOTOS - 2:04d}.jpg"

    strip.show_count(5, count(5))
    strip.show_failure(6, "not a complete JPEG file")
    assert "not a complete JPEG file" in strip.tool_tip(6)
    strip.reset_counts()
    assert strip.text(5) == f"IMG_0005.jpg\n{PENDING}" and strip.text(6) == f"IMG_0006.jpg\n{PENDING}"
    assert strip.model.thumbnails_kept() == 0 and "not a complete" not in strip.tool_tip(6)
