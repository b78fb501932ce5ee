"""How long the GUI thread stalls while the Open image tab saves an annotated photo.

The app opens offscreen, opens a 12-megapixel photo (benchmarks/photos' astronaut-12mp.jpg) and a
120-megapixel one (the largest photo the app takes, made from the same picture into a temporary
folder), waits for their faces (YuNet: no torch in the process), then saves each as JPEG and as
PNG with ImageTab.save_to, as File › Save does. A 5 ms QTimer heartbeat on the GUI thread
records how late each tick comes from the save_to() call until the save's job has ended (the
method of benchmarks/gui_stall.py): the lateness is time the GUI thread could not run. Also the
save_to() call itself and the whole save, wall clock. Faces are blurred, as a user sharing the
photo would save it. The process is set up as the app's start sets it (cpu_budget, allocator).

    python -m benchmarks.save_stall [REPS]      # prints one JSON line, times in ms
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings  # noqa: E402

from benchmarks.gui_stall import HEARTBEAT_MS, Heartbeat, spin, wait_until  # noqa: E402
from benchmarks.photos import write_photos  # noqa: E402
from lwface_desktop.core.images import MAX_PIXELS  # noqa: E402
from lwface_desktop.gui import workers  # noqa: E402
from lwface_desktop.gui.app import create_app  # noqa: E402
from lwface_desktop.gui.main_window import MainWindow  # noqa: E402

BIG_SIZE = (12_640, 9_480)  # 119.8 megapixels, 4:3: just under the app's limit
assert BIG_SIZE[0] * BIG_SIZE[1] <= MAX_PIXELS


def big_photo(source: Path, folder: Path) -> Path:
    """source scaled up to BIG_SIZE, as a JPEG in folder (made once per run, ~30 MB)."""
    import cv2
    from PIL import Image

    from lwface_desktop.core.images import read_jpeg

    path = folder / "astronaut-120mp.jpg"
    Image.fromarray(cv2.resize(read_jpeg(source), BIG_SIZE, interpolation=cv2.INTER_LINEAR)).save(path, quality=92)
    return path


def percentile(values: list[float], share: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * share))]


def run(reps: int) -> dict:
    from lwface_desktop.core import allocator, cpu_budget

    load_average = [round(x, 2) for x in os.getloadavg()]
    cpu_budget.start()
    allocator.keep_freed_memory()
    app = create_app()
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)  # never the user's own settings
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    folder = Path(tempfile.mkdtemp())
    photos = {"12mp": write_photos(folder / "photos")["astronaut-12mp"]}
    photos["120mp"] = big_photo(photos["12mp"], folder)
    window = MainWindow()
    window.show()
    tab = window.image_tab
    tab.set_kind("yunet")
    window.view_options.set_hide("blur")
    heart = Heartbeat()
    wait_until(lambda: not workers.live_workers())
    result: dict = {"reps": reps, "heartbeat_ms": HEARTBEAT_MS,
                    "load_average_before": load_average}
    for size, photo in photos.items():
        window.open_path(photo)
        wait_until(lambda shown=photo: tab.result is not None and tab.result.path == shown and not tab.is_busy(), 600)
        for suffix in ("jpg", "png"):
            scenario = f"{size}_{suffix}"
            calls, totals = [], []
            for rep in range(reps):
                target = folder / f"saved-{scenario}-{rep}.{suffix}"
                spin(100)
                heart.record(scenario)
                start = time.perf_counter()
                tab.save_to(target)
                calls.append(time.perf_counter() - start)
                wait_until(lambda: not tab.is_busy(), 600)
                totals.append(time.perf_counter() - start)
                heart.record(None)
                target.unlink()
            late = heart.lateness[scenario]
            result[scenario] = {
                "max_stall_ms": round(max(late) * 1000, 1),
                "p99_stall_ms": round(percentile(late, 0.99) * 1000, 1),
                "median_stall_ms": round(percentile(late, 0.5) * 1000, 2),
                "ticks": len(late),
                "save_to_call_max_ms": round(max(calls) * 1000, 2),
                "save_median_ms": round(percentile(totals, 0.5) * 1000),
            }
    window.close()
    app.processEvents()
    return result


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 3)))
