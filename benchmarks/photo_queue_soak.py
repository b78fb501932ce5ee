"""A folder of many photos dropped on the app: how fast the background queue counts them, how
long the GUI thread ever waits meanwhile, and whether memory stays flat as the list grows.

Makes a folder of N photos (hard links: every other one the 12-megapixel phone photo
astronaut-12mp.jpg, the others the small scikit-image photos, so 12 MP and small are mixed),
opens the app offscreen, drops the folder on the window and waits until the queue has counted
every photo. A 5 ms QTimer heartbeat on the GUI thread records how late each tick comes (as
benchmarks/gui_stall.py: the lateness is time a click or a repaint would have waited); RSS is
read when 25%, 50%, 75% and 100% of the photos are counted, and at its peak (ru_maxrss). The
stalls are counted from the first photo counted on; until then (the model's load: YOLOv5's first
use imports torch, a one-off that holds the GIL) they are reported apart.

    python -m benchmarks.photo_queue_soak [N] [--find yunet|cascade|yolov5] [--weights PATH]
        prints one JSON line; N defaults to 200
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings  # noqa: E402

from benchmarks.gui_soak import rss_mb  # noqa: E402
from benchmarks.gui_stall import Heartbeat, spin, wait_until  # noqa: E402
from benchmarks.photos import SMALL, write_photos  # noqa: E402
from lwface_desktop.core import allocator  # noqa: E402
from lwface_desktop.gui import workers  # noqa: E402
from lwface_desktop.gui.app import create_app  # noqa: E402
from lwface_desktop.gui.main_window import MainWindow  # noqa: E402

MARKS = (0.25, 0.5, 0.75, 1.0)


def photo_folder(count: int) -> Path:
    """count hard links in a new folder: even ones the 12 MP photo, odd ones the small photos in turn."""
    sources = write_photos(Path(__file__).resolve().parent / "photos")
    folder = Path(tempfile.mkdtemp(prefix="photo-queue-soak-"))
    for i in range(count):
        name = "astronaut-12mp" if i % 2 == 0 else SMALL[(i // 2) % len(SMALL)]
        os.link(sources[name], folder / f"photo-{i:04d}-{name}.jpg")
    return folder


def soak(count: int, kind: str, weights: str | None) -> dict:
    allocator.keep_freed_memory()  # as the app's entry point (cli.main) does
    app = create_app()
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)  # never the user's own settings
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    folder = photo_folder(count)
    window = MainWindow(weights)
    window.show()
    window.image_tab.set_kind(kind)
    wait_until(lambda: not workers.live_workers())
    spin(200)
    batch = window.image_tab.batch
    rss_at: dict[str, float] = {}
    counted_at: list[float] = []

    def on_progress(done: int, total: int) -> None:
        for mark in MARKS:
            if total and done == round(total * mark) and f"{mark:.0%}" not in rss_at:
                rss_at[f"{mark:.0%}"] = round(rss_mb(), 1)
        if done:
            counted_at.append(time.perf_counter())
        if done == 1:  # from here on the model is loaded: a one-off torch import is not in "queue"
            heart.record("queue")

    batch.queue.progress.connect(on_progress)
    heart = Heartbeat()
    rss_before = rss_mb()
    heart.record("first")
    start = time.perf_counter()
    window.open_paths([str(folder)])  # what a drop of the folder does
    wait_until(lambda: len(counted_at) >= count and not batch.queue.is_running(), timeout_s=3600)
    seconds = time.perf_counter() - start
    heart.record(None)
    late = sorted(heart.lateness["queue"])
    first = max(heart.lateness.get("first", [0.0]))
    window.close()
    app.processEvents()
    return {
        "photos": count, "find": kind, "seconds": round(seconds, 1),
        "photos_per_s": round(count / seconds, 2),
        "first_count_s": round(counted_at[0] - start, 2),
        "gui_stall_p99_ms": round(late[int(len(late) * 0.99)] * 1000, 1),
        "gui_stall_max_ms": round(late[-1] * 1000, 1), "heartbeat_ms": 5, "ticks": len(late),
        "gui_stall_max_until_first_count_ms": round(first * 1000, 1),
        "rss_mb_before": round(rss_before, 1), "rss_mb_at": rss_at,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6, 1),  # KiB on Linux
        "failed": sum(1 for row in range(batch.strip.count())
                      if batch.strip.text(row).endswith("cannot be read")),
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="photo_queue_soak")
    parser.add_argument("count", type=int, nargs="?", default=200)
    parser.add_argument("--find", choices=("yunet", "cascade", "yolov5"), default="yunet")
    parser.add_argument("--weights", help="YOLOv5 model file, for --find yolov5")
    args = parser.parse_args(argv)
    print(json.dumps(soak(args.count, args.find, args.weights)))


if __name__ == "__main__":
    main(sys.argv[1:])
