"""Real photos from scikit-image written as JPEG files, for the tests and the benchmarks.

`python benchmarks/photos.py FOLDER` writes them; the tests call write_photos() directly.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from skimage import data

SMALL = ("astronaut", "coffee", "chelsea", "camera")
PHONE_SIZE = (4032, 3024)  # a 12-megapixel 4:3 phone photo


def phone_photo(image: np.ndarray) -> np.ndarray:
    """image enlarged to a 12-megapixel 4:3 frame: scaled to the frame's height, sides mirrored."""
    width, height = PHONE_SIZE
    scaled = cv2.resize(image, (height, height), interpolation=cv2.INTER_CUBIC)
    side = (width - height) // 2
    return cv2.copyMakeBorder(scaled, 0, 0, side, width - height - side, cv2.BORDER_REFLECT)


def write_photos(folder: str | Path) -> dict[str, Path]:
    """Write astronaut/coffee/chelsea/camera (greyscale) and astronaut-12mp as JPEG; name -> path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    images = {name: getattr(data, name)() for name in SMALL}
    images["astronaut-12mp"] = phone_photo(images["astronaut"])
    paths = {}
    for name, image in images.items():
        paths[name] = folder / f"{name}.jpg"
        if not paths[name].exists():
            Image.fromarray(image).save(paths[name], quality=92)
    return paths


if __name__ == "__main__":
    for path in write_photos(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/photos").values():
        print(path)
