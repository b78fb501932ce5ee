"""The background queue behind the film strip (gui/photo_queue.py): Hide faces redoes the
thumbnails from the detections it has (no new detection), a thumbnail made under the old
setting is never shown, and an export pauses it (one full-size decode beside the tab's).
Real photos, real detection (YuNet), gates instead of sleeps."""

import shutil

import numpy as np
import pytest
from PySide6.QtCore import QSize

from lwface_desktop.gui import photo_queue, workers
from lwface_desktop.gui.qimage import qimage_to_rgb
from tests.gui.conftest import SETTLE_MS, Gate, drop_files


@pytest.fixture
def two_photos(tmp_path, photos):
    """a.jpg: a face (the astronaut); b.jpg: none (coffee)."""
    root = tmp_path / "two"
    root.mkdir()
    shutil.copy(photos["astronaut"], root / "a.jpg")
    shutil.copy(photos["coffee"], root / "b.jpg")
    return root


def shown_thumbnail(strip, row) -> np.ndarray:
    return qimage_to_rgb(strip.icon(row).pixmap(QSize(96, 96)).toImage())


def blank(strip) -> np.ndarray:
    return qimage_to_rgb(strip.model.blank.pixmap(QSize(96, 96)).toImage())


def face_box(batch, row, thumbnail):
    """The face's box in thumbnail pixels."""
    count = batch.queue.results[batch.queue.photos[row]]
    [face] = count.detections
    scale = thumbnail.shape[1] / count.width
    x1, y1, x2, y2 = (round(v * scale) for v in face.box)
    return thumbnail[y1:y2, x1:x2].astype(float)


def counted_by(monkeypatch):
    """The photos count_photo (decode and detect) is called for, in order."""
    calls = []
    original = photo_queue.count_photo

    def count_photo(path, *args):
        calls.append(path.name)
        return original(path, *args)

    monkeypatch.setattr(photo_queue, "count_photo", count_photo)
    return calls


def test_hide_faces_redoes_the_strips_thumbnails_without_detecting_again(qtbot, window, two_photos, monkeypatch):
    counted = counted_by(monkeypatch)
    batch, strip = window.image_tab.batch, window.image_tab.batch.strip
    drop_files(window, two_photos)
    qtbot.waitUntil(lambda: bool(batch.found.photos) and not batch.queue.is_running(), timeout=SETTLE_MS)
    plain, no_face = shown_thumbnail(strip, 0), shown_thumbnail(strip, 1)
    assert counted == ["a.jpg", "b.jpg"]

    window.view_options.set_hide("blur")
    # At once: the face's thumbnail is blank until its blurred one comes (never the face meanwhile).
    assert np.array_equal(shown_thumbnail(strip, 0), blank(strip))
    assert np.array_equal(shown_thumbnail(strip, 1), no_face)  # no face in it: nothing to redo
    qtbot.waitUntil(lambda: not batch.queue.is_running(), timeout=SETTLE_MS)
    blurred = shown_thumbnail(strip, 0)
    assert blurred.shape == plain.shape and not np.array_equal(blurred, blank(strip))
    # The face is blurred (its detail gone), not the rest of the photo.
    assert face_box(batch, 0, blurred).std(axis=(0, 1)).mean() < 0.6 * face_box(batch, 0, plain).std(axis=(0, 1)).mean()
    # (decoded smaller than for the count: the same picture, resampled)
    assert np.abs(blurred[:10, :10].astype(int) - plain[:10, :10]).mean() < 12
    assert counted == ["a.jpg", "b.jpg"]  # made from the detections found: nothing detected again
    assert strip.text(0) == "a.jpg\n1 face"


def test_a_thumbnail_made_before_hide_faces_changed_is_never_shown(qtbot, window, two_photos, gate, monkeypatch):
    monkeypatch.setattr(photo_queue, "count_photo", gate.wrap(photo_queue.count_photo))
    batch, strip = window.image_tab.batch, window.image_tab.batch.strip
    shown = []  # (row, what the thumbnail hides) of every thumbnail that reached the strip
    batch.queue.counted.connect(lambda row, count: count.thumbnail.isNull() or shown.append((row, count.finding.hide)))
    drop_files(window, two_photos)
    qtbot.waitUntil(gate.entered.is_set, timeout=SETTLE_MS)  # a.jpg in hand, made with faces shown
    window.view_options.set_hide("pixelate")
    gate.open()
    qtbot.waitUntil(lambda: bool(batch.found.photos) and not batch.queue.is_running(), timeout=SETTLE_MS)
    assert (0, "pixelate") in shown and (0, "off") not in shown
    pixelated = shown_thumbnail(strip, 0)
    assert not np.array_equal(pixelated, blank(strip))
    assert strip.text(0) == "a.jpg\n1 face"


def test_an_export_pauses_the_queue_so_one_full_size_decode_runs_beside_the_tabs(qtbot, window, two_photos,
                                                                                 tmp_path, monkeypatch):
    from lwface_desktop.core import export

    queue_gate, export_gate = Gate(), Gate()
    events = []  # from the pool threads, in the order they happen
    original_count, original_export = photo_queue.count_photo, export._export_one

    def count_photo(path, *args):
        events.append(f"count {path.name}")
        result = queue_gate.wrap(original_count)(path, *args)
        events.append(f"counted {path.name}")
        return result

    def export_one(photo, *args, **kwargs):
        events.append(f"export {photo.name}")
        return export_gate.wrap(original_export)(photo, *args, **kwargs)

    monkeypatch.setattr(photo_queue, "count_photo", count_photo)
    monkeypatch.setattr(export, "_export_one", export_one)
    batch = window.image_tab.batch
    try:
        drop_files(window, two_photos)
        qtbot.waitUntil(lambda: bool(batch.found.photos) and queue_gate.entered.is_set(), timeout=SETTLE_MS)
        with qtbot.waitSignal(batch.exported, timeout=SETTLE_MS):
            batch.export_to(tmp_path / "out")
            queue_gate.open()  # the photo in hand is let finish; the export waits for it
            qtbot.waitUntil(export_gate.entered.is_set, timeout=SETTLE_MS)
            # The export decodes. Once the end of the queue's photo reached the GUI thread (where
            # the queue would start the next), it has started no other photo.
            qtbot.waitUntil(lambda: "photo queue" not in [getattr(w, "name", "") for w in workers.live_workers()],
                            timeout=SETTLE_MS)
            assert events == ["count a.jpg", "counted a.jpg", "export a.jpg"]
            assert batch.queue.is_running()  # paused, not finished
            export_gate.open()
        # After the export the queue goes on by itself and counts the rest.
        with qtbot.waitSignal(batch.queue.finished, timeout=SETTLE_MS) as finished:
            pass
        assert finished.args == [False]
        assert events[-2:] == ["count b.jpg", "counted b.jpg"]
        assert all(not event.startswith("export") for event in events[events.index("count b.jpg"):])
    finally:
        queue_gate.open()
        export_gate.open()
