"""`video`'s frame rate for each thing the live tab and `video` can find, on a 640x480 clip.

`python -m benchmarks.live_modes WEIGHTS [ROUNDS]` writes a 10 s, 30 fps 640x480 clip (the
astronaut's face for 5 s, then the coffee cup), then ROUNDS times (default 5), for each of
yunet, yolov5 and faces+people: the detector alone on the decoded frames (held in memory),
and the whole pipeline as `lwface-desktop video CLIP --detector KIND --output out.mp4 --jsonl
dets.jsonl` runs it. The modes take turns, each round starting with the next one, so that a
busy moment of a shared machine falls on all of them alike; each mode's time is also divided
by yolov5's in the same round (a ratio that load drifts hardly move). Prints one JSON line
per mode: medians of the rounds.
"""

import json
import statistics
import sys
import time

from benchmarks.video_overhead import ten_second_clip, timed_video
from lwface_desktop.core.detectors import LIVE_KINDS, Detectors


def main(weights: str, rounds: int) -> None:
    folder, clip, frames = ten_second_clip()
    detectors = {kind: Detectors(weights).get(kind, live=True) for kind in LIVE_KINDS}
    for detector in detectors.values():
        detector.detect(frames[0])  # first calls allocate and pick kernels
    alone: dict[str, list[float]] = {kind: [] for kind in detectors}
    pipeline: dict[str, list[float]] = {kind: [] for kind in detectors}
    kinds = list(detectors)
    for round_ in range(rounds):
        for kind in kinds[round_ % len(kinds):] + kinds[:round_ % len(kinds)]:
            detector = detectors[kind]
            start = time.perf_counter()
            for frame in frames:
                detector.detect(frame)
            alone[kind].append(time.perf_counter() - start)
            pipeline[kind].append(timed_video(folder, clip, detector))
    for kind, detector in detectors.items():
        print(json.dumps({"detector": kind, "frames": len(frames), "size": "640x480", "rounds": rounds,
                          "img_size": getattr(detector, "img_size", None),
                          "precision": getattr(detector, "precision", None),
                          "detector_alone_fps": round(len(frames) / statistics.median(alone[kind]), 1),
                          "video_fps": round(len(frames) / statistics.median(pipeline[kind]), 1),
                          "video_fps_runs": [round(len(frames) / s, 1) for s in pipeline[kind]],
                          "video_time_vs_yolov5": round(statistics.median(
                              a / b for a, b in zip(pipeline[kind], pipeline["yolov5"], strict=True)), 2)}),
              flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5)
