"""The film strip with a very big list: how long the GUI thread spends showing it, counting it
again and stepping through it, and how much memory its thumbnails hold.

10,000 made-up paths (nothing is decoded: the strip never decodes), in a strip shown offscreen:
show_list(), reset_counts() (a change of detector or score), step(1) (Page Down) at the start,
the middle and the end of the list, and RSS before and after a 96 px thumbnail has come for
every photo (as the queue sends them: PhotoCount with a QImage), then when a few hundred are
scrolled through.

    python -m benchmarks.strip_big_list [N]      # prints one JSON line, times in ms, RSS in MB
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from benchmarks.gui_soak import rss_mb  # noqa: E402
from lwface_desktop.core.photo_folder import PhotoList  # noqa: E402
from lwface_desktop.gui.photo_queue import Finding, PhotoCount  # noqa: E402
from lwface_desktop.gui.photo_strip import PhotoStrip  # noqa: E402
from lwface_desktop.gui.qimage import rgb_to_qimage  # noqa: E402


def ms(fn) -> float:
    """fn's time on the GUI thread, with the layout and painting it leaves for the event loop."""
    start = time.perf_counter()
    fn()
    QApplication.processEvents()
    return round((time.perf_counter() - start) * 1000, 1)


def main(n: int = 10_000) -> dict:
    app = QApplication.instance() or QApplication([])
    strip = PhotoStrip()
    strip.resize(1200, 200)
    strip.show()
    app.processEvents()
    # (Before the strip was a list model it had no set_current: the same with its QListWidget.)
    choose = getattr(strip, "set_current", None) or strip.list.setCurrentRow
    found = PhotoList(photos=[Path(f"/photos/holiday/IMG_{i:05d}.jpg") for i in range(n)])
    out: dict = {"photos": n}
    out["show_list_ms"] = ms(lambda: strip.show_list(found))
    app.processEvents()
    out["reset_counts_ms"] = ms(strip.reset_counts)
    app.processEvents()
    steps = {}
    for where, row in (("start", 0), ("middle", n // 2), ("end", n - 3)):
        choose(row)
        app.processEvents()
        steps[where] = statistics.median(ms(lambda: strip.step(1)) for _ in range(3))
    out["step_ms"] = steps

    rng = np.random.default_rng(0)
    thumbnails = [rgb_to_qimage(rng.integers(0, 256, (72, 96, 3), dtype=np.uint8)) for _ in range(16)]
    finding = Finding("yunet", 0.55)
    app.processEvents()
    out["rss_before_thumbnails_mb"] = rss_mb()
    for row, path in enumerate(found.photos):
        strip.show_count(row, PhotoCount(path, finding, [], "face", 4000, 3000, thumbnails[row % 16].copy()))
        if row % 500 == 0:
            app.processEvents()
    app.processEvents()
    out["rss_all_thumbnails_mb"] = rss_mb()
    for row in range(0, n, max(1, n // 300)):  # scrolling through the list
        choose(row)
        app.processEvents()
    out["rss_after_scrolling_mb"] = rss_mb()
    out["thumbnails_kept"] = strip.model.thumbnails_kept() if hasattr(strip, "model") else n
    return out


if __name__ == "__main__":
    print(json.dumps(main(*(int(a) for a in sys.argv[1:]))))
