"""`video`'s cost over the detector alone, on a 640x480 clip.

`python -m benchmarks.video_overhead WEIGHTS [SIZE ...]` writes a 10 s, 30 fps clip, then per
input size, three times: the detector alone on the decoded frames (held in memory), and the
whole pipeline as `lwface-desktop video CLIP --output out.mp4 --jsonl dets.jsonl` runs it.
Prints one JSON line per size with medians.
"""

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.clips import write_clip
from lwface_desktop.core.pipeline import run_video
from lwface_desktop.core.sources import FrameSource
from lwface_desktop.core.yolo.detector import YoloDetector


def ten_second_clip() -> tuple[Path, str, list[np.ndarray]]:
    """A new folder, the 10 s, 30 fps 640x480 clip written in it (benchmarks/clips.py), its frames."""
    folder = Path(tempfile.mkdtemp())
    clip = str(folder / "clip.avi")
    write_clip(clip, 10, 30)
    frames = []
    with FrameSource(clip) as source:
        while (frame := source.read()) is not None:
            frames.append(frame)
    return folder, clip, frames


def timed_video(folder: Path, clip: str, detector) -> float:
    """Seconds for `lwface-desktop video CLIP --output out.mp4 --jsonl dets.jsonl` with detector."""
    with open(folder / "dets.jsonl", "w") as lines:
        start = time.perf_counter()
        run_video(FrameSource(clip), detector, folder / "out.mp4",
                  lambda i, dets: lines.write(json.dumps([d.to_json() for d in dets]) + "\n"), overwrite=True)
        return time.perf_counter() - start


def main(weights: str, sizes: list[int]) -> None:
    folder, clip, frames = ten_second_clip()
    for size in sizes:
        detector = YoloDetector(weights, img_size=size)
        alone, pipeline = [], []
        for _ in range(3):
            start = time.perf_counter()
            for frame in frames:
                detector.detect(frame)
            alone.append(time.perf_counter() - start)
            pipeline.append(timed_video(folder, clip, detector))
        alone_s, pipeline_s = statistics.median(alone), statistics.median(pipeline)
        print(json.dumps({"img_size": size, "precision": detector.precision, "frames": len(frames),
                          "detector_alone_fps": round(len(frames) / alone_s, 1),
                          "video_fps": round(len(frames) / pipeline_s, 1),
                          "overhead_pct": round((pipeline_s / alone_s - 1) * 100, 1)}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], [int(s) for s in sys.argv[2:]] or [320, 640])
