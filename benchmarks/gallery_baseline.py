"""The baseline for the 12-megapixel target: scikit-image's gallery call on the full-resolution photo.

`python benchmarks/gallery_baseline.py PHOTO [RUNS]` prints one JSON line with the median time.
"""

import json
import statistics
import sys
import time

from skimage.data import lbp_frontal_face_cascade_filename
from skimage.feature import Cascade

from lwface_desktop.core.images import read_jpeg

path, runs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3
detector = Cascade(lbp_frontal_face_cascade_filename())
times = []
for _ in range(runs):
    start = time.perf_counter()
    image = read_jpeg(path)
    # The gallery example's call, sizes tuned for its one 512 px photo.
    found = detector.detect_multi_scale(img=image, scale_factor=1.2, step_ratio=1,
                                        min_size=(60, 60), max_size=(123, 123))
    times.append(time.perf_counter() - start)
print(json.dumps({"image": path, "runs": runs, "faces": len(found),
                  "median_ms_total": round(statistics.median(times) * 1000, 1)}))
