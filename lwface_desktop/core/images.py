"""Reading photos and writing results. All image validation lives here.

read_jpeg() turns any JPEG a camera or phone produces into an HxWx3 uint8 RGB array,
and turns everything else into an ImageError whose message a person understands.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from lwface_desktop.core.errors import UserError

# 120 megapixels covers every phone and most medium-format cameras; one decoded copy is
# 360 MB and the app keeps about three (photo, annotated, on screen), well under 2 GB.
MAX_PIXELS = 120_000_000

JPEG_SUFFIXES = (".jpg", ".jpeg", ".jpe", ".jfif")
SAVE_SUFFIXES = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG"}

_ORIENTATION = 0x0112       # the EXIF tag
_SIDEWAYS = (5, 6, 7, 8)    # orientations that swap width and height

# First bytes of formats people often mistake for JPEG, to say what a file really is.
_SIGNATURES = {
    b"\x89PNG": "a PNG image",
    b"GIF8": "a GIF image",
    b"BM": "a BMP image",
    b"II*\x00": "a TIFF image",
    b"MM\x00*": "a TIFF image",
    b"%PDF": "a PDF document",
}


class ImageError(UserError):
    """A photo could not be used; str(error) is the message to show the user."""


def _describe(head: bytes) -> str:
    for magic, what in _SIGNATURES.items():
        if head.startswith(magic):
            return what
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP image"
    if head[4:8] == b"ftyp":
        return "a HEIC or video file"
    return "not an image this app can read"


def _check_is_jpeg_file(path: Path) -> None:
    name = path.name
    if not path.exists():
        raise ImageError(f"{name} was not found.")
    if path.is_dir():
        raise ImageError(f"{name} is a folder, not a JPEG file.")
    try:
        with path.open("rb") as f:
            head = f.read(16)
    except OSError as e:
        raise ImageError(f"{name} could not be read: {e.strerror or e}.") from None
    if not head:
        raise ImageError(f"{name} is empty (0 bytes).")
    if not head.startswith(b"\xff\xd8\xff"):
        raise ImageError(f"{name} is {_describe(head)}, not a JPEG. Only JPEG photos are supported.")


def _frame_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from the JPEG's start-of-frame header, without decoding anything."""
    with path.open("rb") as f:
        f.read(2)  # SOI
        while True:
            marker = f.read(4)
            if len(marker) < 4 or marker[0] != 0xFF:
                return None
            length = int.from_bytes(marker[2:4], "big")
            # SOF0..SOF15 carry the size, except DHT (C4), JPG (C8) and DAC (CC).
            if 0xC0 <= marker[1] <= 0xCF and marker[1] not in (0xC4, 0xC8, 0xCC):
                frame = f.read(5)
                return (int.from_bytes(frame[3:5], "big"), int.from_bytes(frame[1:3], "big"))
            f.seek(length - 2, os.SEEK_CUR)


@dataclass(frozen=True)
class Photo:
    """A decoded photo. pixels is HxWx3 uint8 RGB, upright; width and height are the
    full-resolution upright size, which pixels may be a reduced decode of."""

    pixels: np.ndarray
    width: int
    height: int

    @property
    def scale(self) -> float:
        """Decoded pixels per full-resolution pixel (1.0, or 1/2, 1/4, 1/8 for a reduced decode)."""
        return self.pixels.shape[1] / self.width


def read_jpeg(path: str | Path, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode a JPEG file, judged by its content, not its extension.

    Returns an HxWx3 uint8 array in RGB order, upright per the EXIF orientation tag;
    greyscale and CMYK JPEGs are converted to RGB. Raises ImageError for anything
    missing, empty, not a JPEG, truncated, damaged or larger than max_pixels.
    """
    return open_photo(path, max_pixels=max_pixels).pixels


def open_photo(path: str | Path, min_side: int | None = None, max_pixels: int = MAX_PIXELS) -> Photo:
    """Like read_jpeg, but with min_side set, decode at the smallest JPEG scale (1/2, 1/4, 1/8)
    whose long side is still at least min_side: a detector that works on a 900 px copy
    needs no 12-megapixel decode, and the reduced decode is several times faster.
    """
    path = Path(path)
    name = path.name
    _check_is_jpeg_file(path)
    size = _frame_size(path)
    if size and size[0] * size[1] > max_pixels:
        raise ImageError(_too_large(name, *size, max_pixels))
    try:
        with warnings.catch_warnings():
            # Pillow warns about big images; the explicit size check below decides.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                width, height = img.size
                if width * height > max_pixels:
                    raise ImageError(_too_large(name, width, height, max_pixels))
                if img.format not in ("JPEG", "MPO"):
                    raise ImageError(f"{name} is not a JPEG file.")
                if min_side and max(width, height) > min_side:
                    shrink = min_side / max(width, height)
                    img.draft(img.mode, (math.ceil(width * shrink), math.ceil(height * shrink)))
                img.load()
                if img.getexif().get(_ORIENTATION, 1) in _SIDEWAYS:
                    width, height = height, width
                rgb = ImageOps.exif_transpose(img).convert("RGB")
    except ImageError:
        raise
    except Image.DecompressionBombError:
        raise ImageError(f"{name} is too large: the largest supported photo has "
                         f"{max_pixels // 1_000_000} megapixels.") from None
    except (OSError, SyntaxError, ValueError) as e:
        if "truncated" in str(e) or "premature end" in str(e).lower():
            raise ImageError(f"{name} is not a complete JPEG file (it was cut short).") from None
        raise ImageError(f"{name} is a damaged JPEG file and cannot be opened.") from None
    return Photo(np.asarray(rgb, dtype=np.uint8), width, height)


def _too_large(name: str, width: int, height: int, max_pixels: int) -> str:
    return (f"{name} is {width} × {height} pixels ({width * height / 1e6:.0f} megapixels); "
            f"the largest supported photo has {max_pixels // 1_000_000} megapixels.")


def unused_path(folder: Path, stem: str, suffix: str) -> Path:
    """folder/stem.suffix, or stem-2, stem-3… if taken: never the name of an existing file."""
    candidate, n = folder / f"{stem}{suffix}", 2
    while candidate.exists():
        candidate, n = folder / f"{stem}-{n}{suffix}", n + 1
    return candidate


def save_image(image: np.ndarray, path: str | Path) -> None:
    """Write an HxWx3 uint8 RGB array as JPEG or PNG, chosen by the file's extension."""
    path = Path(path)
    fmt = SAVE_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise ImageError(f"{path.name}: choose a name ending in .jpg or .png.")
    options = {"quality": 92} if fmt == "JPEG" else {}
    # Write beside the target, then rename: a failed save never leaves half a file.
    partial = path.with_name(f".{path.name}.partial")
    try:
        Image.fromarray(image).save(partial, fmt, **options)
        os.replace(partial, path)
    except OSError as e:
        partial.unlink(missing_ok=True)
        raise ImageError(f"Could not save {path.name}: {e.strerror or e}.") from None
