"""Is "one detection thread per physical core but one" right? The live pipeline under taskset.

    python -m benchmarks.threads WEIGHTS [ROUNDS]

For every number of CPUs k this machine has (taskset -c 0..k-1 simulates a k-core machine,
within the CPUs there are), and every torch thread count t from 1 to k, runs `video`'s
pipeline (decoding, detection and drawing + encoding, each on its own thread, as in the live
tab) on a 5 s, 30 fps 640x480 clip with YOLOv5n at 640 in the CPU's precision, in a fresh
process with LWFACE_THREADS=t; and once with no override, to show what the app picks
(core/cpu_budget.py). Rounds interleave every configuration; prints one JSON line per
configuration with the median frames per second.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def child(weights: str, clip: str, kind: str) -> None:
    """In the taskset process: the pipeline once, then one JSON line."""
    from lwface_desktop.core import cpu_budget
    from lwface_desktop.core.detectors import Detectors
    from lwface_desktop.core.pipeline import run_video
    from lwface_desktop.core.sources import FrameSource

    cpu_budget.start()  # as the app does at start
    detector = Detectors(weights).get(kind, live=True)
    detector.detect(next(iter(_frames(clip))))  # first-call costs (weight packing) not timed
    start = time.perf_counter()
    stats = run_video(FrameSource(clip), detector, Path(clip).with_name("out.mp4"), overwrite=True)
    seconds = time.perf_counter() - start
    split = cpu_budget.for_detector(detector)
    print(json.dumps({"physical_cores": cpu_budget.physical_cores(), "torch_threads": split.torch_threads,
                      "opencv_threads": split.opencv_threads, "fps": stats.frames / seconds}))


def _frames(clip: str):
    from lwface_desktop.core.sources import FrameSource

    with FrameSource(clip) as source:
        yield source.read()


def main(weights: str, rounds: int) -> None:
    from benchmarks.clips import write_clip

    with tempfile.TemporaryDirectory() as folder:
        clip = str(Path(folder) / "clip.avi")
        write_clip(clip, 5, 30)
        _compare(weights, clip, rounds)


def _compare(weights: str, clip: str, rounds: int) -> None:
    cpus = sorted(os.sched_getaffinity(0))
    configs = [(k, t, kind) for k in range(1, len(cpus) + 1) for t in [*range(1, k + 1), None]
               for kind in ("yolov5", "faces+people")]
    fps: dict[tuple, list[float]] = {c: [] for c in configs}
    seen: dict[tuple, dict] = {}
    for round_ in range(rounds):
        shift = round_ % len(configs)
        for config in configs[shift:] + configs[:shift]:
            k, threads, kind = config
            env = {k_: v for k_, v in os.environ.items() if k_ != "LWFACE_THREADS"}
            if threads is not None:
                env["LWFACE_THREADS"] = str(threads)
            command = ["taskset", "-c", ",".join(map(str, cpus[:k])), sys.executable, "-m", "benchmarks.threads",
                       "--child", weights, clip, kind]
            out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
            result = json.loads(out.strip().splitlines()[-1])
            fps[config].append(result["fps"])
            seen[config] = result
    for config in configs:
        k, threads, kind = config
        result = seen[config]
        print(json.dumps({"cpus": k, "detector": kind,
                          "torch_threads": result["torch_threads"], "opencv_threads": result["opencv_threads"],
                          "chosen_by_the_app": threads is None, "physical_cores_seen": result["physical_cores"],
                          "fps": round(statistics.median(fps[config]), 1),
                          "fps_rounds": [round(f, 1) for f in fps[config]]}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "--child":
        child(*sys.argv[2:5])
    else:
        main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3)
