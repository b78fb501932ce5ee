"""What recording costs the live tab: `python -m benchmarks.recording [SECONDS]`.

The camera loop's side is Recorder.add(), which must never wait: timed per call while the
encoder runs. The encoder's side: how many frames a second it writes (mp4v) at 640x480 and
1920x1080, against a camera's 30. Frames are the panning clip of benchmarks/clips.py, handed
over as fast as add() takes them, with a queue large enough that none is dropped, three runs
per size. Prints one JSON line per size with medians.
"""

import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2

from benchmarks.clips import write_clip
from lwface_desktop.core.recording import Recorder
from lwface_desktop.core.sources import FrameSource


def clip_frames(seconds: float) -> list:
    folder = Path(tempfile.mkdtemp())
    clip = str(folder / "clip.avi")
    write_clip(clip, seconds, 30)
    frames = []
    with FrameSource(clip) as source:
        while (frame := source.read()) is not None:
            frames.append(frame)
    return frames


def one_run(frames: list) -> tuple[float, float]:
    """(encoder frames per second, add()'s longest call in ms)."""
    recorder = Recorder(tempfile.mkdtemp(), 30.0, "bench", queue_frames=len(frames) + 1)
    thread = threading.Thread(target=recorder.run)
    start = time.perf_counter()
    thread.start()
    longest = 0.0
    for index, frame in enumerate(frames):
        t = time.perf_counter()
        recorder.add(frame, index)
        longest = max(longest, time.perf_counter() - t)
    recorder.finish()
    thread.join()
    assert recorder.result.frames == len(frames) and recorder.result.dropped == 0
    return len(frames) / (time.perf_counter() - start), longest * 1000


def main(seconds: float) -> None:
    small = clip_frames(seconds)
    for width, height in ((640, 480), (1920, 1080)):
        frames = small if width == 640 else [cv2.resize(f, (width, height)) for f in small]
        runs = [one_run(frames) for _ in range(3)]
        print(json.dumps({"size": f"{width}x{height}", "frames": len(frames),
                          "encoder_fps": round(statistics.median(r[0] for r in runs), 1),
                          "add_longest_ms": round(statistics.median(r[1] for r in runs), 3)}), flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 10)
