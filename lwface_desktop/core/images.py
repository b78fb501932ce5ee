"""Reading photos and writing results. All image validation lives here.

read_jpeg() turns any JPEG a camera or phone produces into an HxWx3 uint8 RGB array,
and turns everything else into an ImageError whose message a person understands.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

# 120 megapixels covers every phone and most medium-format cameras; one decoded copy is
# 360 MB and the app keeps about three (photo, annotated, on screen), well under 2 GB.
MAX_PIXELS = 120_000_000

JPEG_SUFFIXES = (".jpg", ".jpeg", ".jpe", ".jfif")
SAVE_SUFFIXES = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG"}

# First bytes of formats people often mistake for JPEG, to say what a file really is.
_SIGNATURES = {
    b"\x89PNG": "a PNG image",
    b"GIF8": "a GIF image",
    b"BM": "a BMP image",
    b"II*\x00": "a TIFF image",
    b"MM\x00*": "a TIFF image",
    b"%PDF": "a PDF document",
}


class ImageError(Exception):
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


def read_jpeg(path: str | Path, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode a JPEG file, judged by its content, not its extension.

    Returns an HxWx3 uint8 array in RGB order, upright per the EXIF orientation tag;
    greyscale and CMYK JPEGs are converted to RGB. Raises ImageError for anything
    missing, empty, not a JPEG, truncated, damaged or larger than max_pixels.
    """
    path = Path(path)
    name = path.name
    _check_is_jpeg_file(path)
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
                img.load()
                upright = ImageOps.exif_transpose(img)
                rgb = upright.convert("RGB")
    except ImageError:
        raise
    except Image.DecompressionBombError:
        raise ImageError(f"{name} is too large: the largest supported photo has "
                         f"{max_pixels // 1_000_000} megapixels.") from None
    except (OSError, SyntaxError, ValueError) as e:
        if "truncated" in str(e) or "premature end" in str(e).lower():
            raise ImageError(f"{name} is not a complete JPEG file (it was cut short).") from None
        raise ImageError(f"{name} is a damaged JPEG file and cannot be opened.") from None
    return np.asarray(rgb, dtype=np.uint8)


def _too_large(name: str, width: int, height: int, max_pixels: int) -> str:
    return (f"{name} is {width} × {height} pixels ({width * height / 1e6:.0f} megapixels); "
            f"the largest supported photo has {max_pixels // 1_000_000} megapixels.")


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
