"""The live tab on a video, measured from inside the GUI: the GUI thread's longest stall
(a 10 ms QTimer heartbeat: how late each tick comes) and the memory (RSS) over time.

`python benchmarks/gui_soak.py CLIP WEIGHTS SECONDS [IMG_SIZE]` prints one JSON line.
"""

import json
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QTimer  # noqa: E402

from lwface_desktop.gui.app import create_app  # noqa: E402
from lwface_desktop.gui.main_window import MainWindow  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def main(clip: str, weights: str, seconds: float, img_size: int = 640) -> None:
    app = create_app()
    window = MainWindow(weights)
    window.show()
    tab = window.camera_tab
    tab.size_choice.setCurrentIndex(tab.size_choice.findData(img_size))
    frames = []

    def count_frames(status: str) -> None:  # the worker exists once the model is loaded and the clip open
        if status.startswith("Live:"):
            tab.worker.frame_ready.connect(lambda *_: frames.append(time.perf_counter()))

    tab.status.connect(count_frames)
    window.start_camera(clip)

    late, memory = [], []
    last = [time.perf_counter()]

    def beat():
        now = time.perf_counter()
        late.append((now - last[0] - 0.010, now - start))
        last[0] = now

    heartbeat = QTimer(interval=10, timeout=beat)
    heartbeat.start()
    sampler = QTimer(interval=5000, timeout=lambda: memory.append((time.perf_counter(), rss_mb())))
    sampler.start()
    last_stats = []
    start = time.perf_counter()
    QTimer.singleShot(int(seconds * 1000), lambda: (last_stats.append(tab.stats.text()), window.close()))
    app.exec()
    steady = [m for t, m in memory if t - start > 30] or [m for _, m in memory]
    worst, worst_at = max(late)
    running = sorted(d for d, t in late if t > 10)  # after start-up and the model load
    print(json.dumps({
        "seconds": round(time.perf_counter() - start, 1), "img_size": img_size,
        "frames_shown": len(frames), "fps": round(len(frames) / seconds, 1),
        "last_stats_line": last_stats[0] if last_stats else None,
        "gui_longest_stall_ms": round(worst * 1000, 1), "at_s": round(worst_at, 1),
        "gui_longest_stall_after_10s_ms": round(running[-1] * 1000, 1) if running else None,
        "gui_stall_p99_ms": round(running[int(len(running) * 0.99)] * 1000, 1) if running else None,
        "rss_mb_after_30s": round(steady[0], 1), "rss_mb_end": round(steady[-1], 1),
        "rss_mb_min_max": [round(min(steady), 1), round(max(steady), 1)],
    }))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 640)
