"""Test clips from scikit-image's photos: `python benchmarks/clips.py OUT.avi SECONDS [FPS]`.

640x480, the four photos in turn, panning slowly so consecutive frames differ like a camera's.
"""

import sys

import cv2
import numpy as np
from skimage import data


def write_clip(path: str, seconds: float, fps: int = 30) -> int:
    photos = [cv2.resize(p, (800, 600)) for p in (data.astronaut(), data.coffee(), data.chelsea(),
                                                   np.repeat(data.camera()[..., None], 3, 2))]
    fourcc = "XVID" if path.endswith(".avi") else "mp4v"
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*fourcc), fps, (640, 480))
    frames = int(seconds * fps)
    for i in range(frames):
        photo = photos[(i // (fps * 5)) % len(photos)]  # a new photo every 5 s
        shift = (i % (fps * 5)) * 160 // (fps * 5)
        writer.write(cv2.cvtColor(photo[60:540, shift:shift + 640], cv2.COLOR_RGB2BGR))
    writer.release()
    return frames


if __name__ == "__main__":
    print(write_clip(sys.argv[1], float(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 30))
