"""The live tab on a video, measured from inside the GUI: frames shown per second, the GUI
thread's longest stall (a 10 ms QTimer heartbeat: how late each tick comes) and the memory
(RSS) over time, for one thing to find (Faces, Objects, Faces + people).

    python -m benchmarks.gui_soak CLIP WEIGHTS SECONDS [IMG_SIZE] [--find KIND]
        one run of the app (offscreen) on CLIP; prints one JSON line. KIND is one of
        yunet (Faces), yolov5 (Objects, the default) or faces+people.
    python -m benchmarks.gui_soak --compare WEIGHTS SECONDS ROUNDS [IMG_SIZE] [--clip-fps FPS]
        writes a 640x480 clip at FPS frames a second (default 30, a camera's rate; the source
        is read at its own rate, so FPS caps what can be shown), then ROUNDS times runs each
        kind in its own process, the order turned each round so that a busy moment of the
        machine falls on all alike; prints one JSON line per kind with the medians.

fps_running counts frames shown from the first frame to the end (a model load before the
first frame is not in it); fps counts them over the whole run, start-up included.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings, QTimer  # noqa: E402

from lwface_desktop.core import allocator  # noqa: E402
from lwface_desktop.core.detectors import LIVE_KINDS  # noqa: E402
from lwface_desktop.gui.app import create_app  # noqa: E402
from lwface_desktop.gui.main_window import MainWindow  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def soak(clip: str, weights: str, seconds: float, img_size: int = 640, kind: str = "yolov5") -> dict:
    allocator.keep_freed_memory()  # as the app's entry point (cli.main) does
    app = create_app()
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)  # never the user's own settings
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    window = MainWindow(weights)
    window.show()
    tab = window.camera_tab
    tab.set_kind(kind)
    tab.size_choice.setCurrentIndex(tab.size_choice.findData(img_size))
    frames: list[tuple[float, float]] = []  # (when shown, inference seconds)

    def count_frames(status: str) -> None:  # the worker exists once the model is loaded and the clip open
        if status.startswith("Live:") and tab.worker is not None:
            tab.worker.frame_ready.connect(lambda _i, _d, stats, _a: frames.append((time.perf_counter(),
                                                                                     stats["inference"])))

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
    steady = [m for t, m in memory if t - start > 30] or [m for _, m in memory] or [rss_mb()]
    worst, worst_at = max(late)
    running = sorted(d for d, t in late if t > 10)  # after start-up and the model load
    shown = [t for t, _ in frames]
    return {
        "find": kind, "seconds": round(time.perf_counter() - start, 1), "img_size": img_size,
        "frames_shown": len(frames), "fps": round(len(frames) / seconds, 1),
        "fps_running": round((len(shown) - 1) / (shown[-1] - shown[0]), 1) if len(shown) > 1 else None,
        "first_frame_s": round(shown[0] - start, 2) if shown else None,
        "inference_median_ms": round(statistics.median(i for _, i in frames) * 1000, 1) if frames else None,
        "last_stats_line": last_stats[0] if last_stats else None,
        "gui_longest_stall_ms": round(worst * 1000, 1), "at_s": round(worst_at, 1),
        "gui_longest_stall_after_10s_ms": round(running[-1] * 1000, 1) if running else None,
        "gui_stall_p99_ms": round(running[int(len(running) * 0.99)] * 1000, 1) if running else None,
        "rss_mb_after_30s": round(steady[0], 1), "rss_mb_end": round(steady[-1], 1),
        "rss_mb_min_max": [round(min(steady), 1), round(max(steady), 1)],
    }


def compare(weights: str, seconds: float, rounds: int, img_size: int, clip_fps: int) -> list[dict]:
    """Each kind in its own process, ROUNDS times, interleaved; the medians per kind."""
    from benchmarks.clips import write_clip

    clip = str(Path(tempfile.mkdtemp()) / "clip.avi")
    write_clip(clip, seconds + 20, clip_fps)  # never ends during a run (the model load included)
    kinds = list(LIVE_KINDS)
    runs: dict[str, list[dict]] = {kind: [] for kind in kinds}
    for r in range(rounds):
        for kind in kinds[r % len(kinds):] + kinds[:r % len(kinds)]:
            child = subprocess.run([sys.executable, "-m", "benchmarks.gui_soak", clip, weights, str(seconds),
                                    str(img_size), "--find", kind], capture_output=True, text=True, check=True)
            runs[kind].append(json.loads(child.stdout.strip().splitlines()[-1]))
    figures = []
    for kind in kinds:
        def median(key: str, of: list[dict] = runs[kind]) -> float:
            return round(statistics.median(run[key] for run in of), 1)

        figures.append({"find": kind, "title": LIVE_KINDS[kind], "runs": rounds, "seconds": seconds,
                        "img_size": img_size, "clip_fps": clip_fps,
                        "fps_running_median": median("fps_running"),
                        "fps_running_all": [run["fps_running"] for run in runs[kind]],
                        "inference_median_ms": median("inference_median_ms"),
                        "first_frame_s_median": median("first_frame_s"),
                        "gui_stall_p99_ms_median": median("gui_stall_p99_ms"),
                        "rss_mb_end_median": median("rss_mb_end"),
                        "load_average_after": [round(x, 2) for x in os.getloadavg()]})
    return figures


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--compare":
        parser = argparse.ArgumentParser(prog="gui_soak --compare")
        parser.add_argument("weights")
        parser.add_argument("seconds", type=float)
        parser.add_argument("rounds", type=int)
        parser.add_argument("img_size", type=int, nargs="?", default=640)
        parser.add_argument("--clip-fps", type=int, default=30)
        args = parser.parse_args(argv[1:])
        for line in compare(args.weights, args.seconds, args.rounds, args.img_size, args.clip_fps):
            print(json.dumps(line, ensure_ascii=False))
        return
    parser = argparse.ArgumentParser(prog="gui_soak")
    parser.add_argument("clip")
    parser.add_argument("weights")
    parser.add_argument("seconds", type=float)
    parser.add_argument("img_size", type=int, nargs="?", default=640)
    parser.add_argument("--find", choices=list(LIVE_KINDS), default="yolov5")
    args = parser.parse_args(argv)
    print(json.dumps(soak(args.clip, args.weights, args.seconds, args.img_size, args.find), ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1:])
