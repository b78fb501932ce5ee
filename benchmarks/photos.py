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
VGA_SIZE = (640, 480)      # a webcam frame


def phone_photo(image: np.ndarray, size: tuple[int, int] = PHONE_SIZE) -> np.ndarray:
    """image (square) fitted to a 4:3 frame of size: scaled to its height, sides mirrored."""
    width, height = size
    scaled = cv2.resize(image, (height, height), interpolation=cv2.INTER_CUBIC if height > image.shape[0]
                        else cv2.INTER_AREA)
    side = (width - height) // 2
    return cv2.copyMakeBorder(scaled, 0, 0, side, width - height - side, cv2.BORDER_REFLECT)


def write_photos(folder: str | Path) -> dict[str, Path]:
    """Write astronaut/coffee/chelsea/camera (greyscale), astronaut-12mp and astronaut-vga
    (640x480, a webcam frame's size) as JPEG; name -> path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    images = {name: getattr(data, name)() for name in SMALL}
    images["astronaut-12mp"] = phone_photo(images["astronaut"])
    images["astronaut-vga"] = phone_photo(images["astronaut"], VGA_SIZE)
    paths = {}
    for name, image in images.items():
        paths[name] = folder / f"{name}.jpg"
        if not paths[name].exists():
            Image.fromarray(image).save(paths[name], quality=92)
    return paths


if __name__ == "__main__":
    for path in write_photos(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/photos").values():
        print(path)
