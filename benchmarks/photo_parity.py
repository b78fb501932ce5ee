"""What the official-parity photo path costs: a full-size decode against the reduced JPEG decode.

`python -m benchmarks.photo_parity WEIGHTS` runs each reference JPEG through YOLOv5 at 640 and
320 in fp32 both ways, interleaved, and prints one JSON line per photo: median ms of decode and of
decode + detect for each path, and how many official detections each path matches (score within
0.03, IoU >= 0.9). Then, since the full path gives the official detections, it checks the
reduced path against it on each photo enlarged 2x and 2.5x (a 1280x720 frame from a 640x360 one):
the reduced decode skips the INTER_LINEAR resize the official code does, and there it differs.
The full decode is what the app uses for YOLOv5 (README, "Parity").
"""

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2

from lwface_desktop.core.images import open_photo
from lwface_desktop.core.yolo.detector import YoloDetector

SHARED = Path(__file__).resolve().parents[2] / "shared"
REFERENCE = SHARED / "reference" / "yolov5n_jpeg_detections.json"
PATHS = ("full", "reduced")  # reduced: the smallest JPEG scale still >= the network's input


def iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def matched(official: list[dict], found) -> int:
    return sum(any(d.label == r["label"] and abs(d.score - r["score"]) <= 0.03 and iou(d.box, r["box_xyxy"]) >= 0.9
                   for d in found) for r in official)


def main(weights: str, runs: int = 5) -> None:
    reference = json.loads(REFERENCE.read_text())["detections"]
    for size in (640, 320):
        detector = YoloDetector(weights, img_size=size, precision="fp32")
        for name, by_size in sorted(reference.items()):
            path = next(p for p in (SHARED / "reference" / "jpeg" / name, SHARED / "faces" / name) if p.is_file())
            times: dict[str, dict[str, list[float]]] = {k: {"decode": [], "total": []} for k in PATHS}
            found = {}
            for _ in range(runs):
                for kind in PATHS:  # interleaved, so load hits both alike
                    start = time.perf_counter()
                    photo = open_photo(path, min_side=None if kind == "full" else size)
                    decoded = time.perf_counter()
                    found[kind] = detector.detect_photo(photo)
                    times[kind]["decode"].append(decoded - start)
                    times[kind]["total"].append(time.perf_counter() - start)
            official = by_size[str(size)]
            result = {"photo": name, "size": size, "official": len(official)}
            for kind in PATHS:
                result[kind] = {stage: round(statistics.median(t) * 1000, 1) for stage, t in times[kind].items()}
                result[kind]["matched"] = matched(official, found[kind])
            print(json.dumps(result), flush=True)


def enlarged(weights: str) -> None:
    """Official detections the reduced decode misses on enlarged copies (the full decode's are the official)."""
    photos = sorted((SHARED / "faces").glob("*.jpg")) + sorted((SHARED / "reference" / "jpeg").glob("*frame*.jpg"))
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "enlarged.jpg"
        for size in (640, 320):
            detector = YoloDetector(weights, img_size=size, precision="fp32")
            missed = total = 0
            for path in photos:
                for factor in (2.0, 2.5):
                    big = cv2.resize(cv2.imread(str(path)), None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
                    cv2.imwrite(str(copy), big, [cv2.IMWRITE_JPEG_QUALITY, 92])
                    official = [{"label": d.label, "score": d.score, "box_xyxy": d.box}
                                for d in detector.detect_photo(open_photo(copy))]
                    total += len(official)
                    missed += len(official) - matched(official, detector.detect_photo(open_photo(copy, min_side=size)))
            print(json.dumps({"enlarged_photos": 2 * len(photos), "size": size, "official": total,
                              "reduced_decode_missed": missed}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
    enlarged(sys.argv[1])
