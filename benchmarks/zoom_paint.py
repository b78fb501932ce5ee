"""How long the GUI thread takes to paint the Open image tab's photo as it is zoomed and panned.

A 12-megapixel photo's view copy (2560 px, as the tab shows it) in a 1200 x 800 PhotoView,
painted offscreen (view.grab() runs the paintEvent). Per scenario, the median and the worst
of REPS paints, in ms:

- new_photo: the first paint of a photo just shown (its copy halved, then scaled to fit);
- fit_repaint: fitted, a repaint of the same view (a highlight, the badge): the cached pixmap;
- fit_resize: fitted, the window resized: the photo area-averaged to the new size (from the
  halved copy just above it);
- zoom_out_step: a wheel notch between fit and 100% of the view copy (the first one halves
  the copy: its max);
- pan_zoomed_out: a pan at that zoom;
- zoom_in_step / pan_zoomed_in: about 200% and 1600% of the photo;
- highlight_zoomed_in: another box highlighted, zoomed in: the view moves to it.
Zoomed, only the visible part is rendered, from the halved copy closest above the screen's
resolution.

    python -m benchmarks.zoom_paint [REPS]      # prints one JSON line, times in ms
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QPointF  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from lwface_desktop.core.detection import Detection  # noqa: E402
from lwface_desktop.gui.photo_view import PhotoView  # noqa: E402
from lwface_desktop.gui.qimage import rgb_to_qimage  # noqa: E402

PHOTO = (4032, 3024)    # a 12-megapixel phone photo
VIEW_COPY = (2560, 1920)


def timed(action, view, reps: int) -> dict[str, float]:
    times = []
    for i in range(reps):
        action(i)
        start = time.perf_counter()
        view.grab()
        times.append((time.perf_counter() - start) * 1000)
    return {"median_ms": round(statistics.median(times), 2), "max_ms": round(max(times), 2)}


def main(reps: int = 20) -> dict:
    app = QApplication.instance() or QApplication([])
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (VIEW_COPY[1], VIEW_COPY[0], 3), dtype=np.uint8)  # detail everywhere
    boxes = [Detection(x, 1000, x + 200, 1200, 0.9, "face") for x in range(100, 3900, 400)]
    view = PhotoView("")
    view.resize(1200, 800)
    view.show()
    view.set_photo(rgb_to_qimage(pixels), PHOTO, boxes)
    app.processEvents()
    view.grab()
    image = rgb_to_qimage(pixels)
    results = {"new_photo": timed(lambda i: view.set_photo(image, PHOTO, boxes), view, reps),
               "fit_repaint": timed(lambda i: view.update(), view, reps),
               "fit_resize": timed(lambda i: view.resize(1200 - i % 2 * 40, 800), view, reps)}
    view.resize(1200, 800)
    centre = QPointF(600, 400)

    def zoom_out_step(i: int) -> None:  # between fit (~26%) and 100% of the copy (63%): a new size each time
        view._set_zoom(0.30 + 0.01 * (i % 30), centre, step=False)

    results["zoom_out_step"] = timed(zoom_out_step, view, reps)

    def pan(i: int) -> None:  # as a drag does, 5 photo pixels to and fro
        view._centre = QPointF(view._centre.x() + (5 if i % 2 else -5), view._centre.y())
        view._view_changed()

    view._set_zoom(0.5, centre, step=False)
    results["pan_zoomed_out"] = timed(pan, view, reps)
    for percent in (200, 1600):
        view._set_zoom(percent / 100, centre, step=False)
        results[f"pan_zoomed_in_{percent}"] = timed(pan, view, reps)
        results[f"zoom_in_step_{percent}"] = timed(lambda i, p=percent: view._set_zoom(
            p / 100 * (0.99 if i % 2 else 1.0), centre, step=False), view, reps)
    results["highlight_zoomed_in"] = timed(lambda i: view.set_highlight(i % len(boxes)), view, reps)
    return {"reps": reps, "photo": PHOTO, "view_copy": VIEW_COPY, "view": [1200, 800], **results}


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)))
