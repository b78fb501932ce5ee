"""Reading photos and writing results.

read_jpeg() turns any JPEG a camera or phone produces into an HxWx3 uint8 RGB array,
and turns everything else into an ImageError whose message a person understands, in
bounded time and memory: the file's type is checked before it is read (files.py: a named
pipe or a device would block or never end), its size is capped and its markers are walked
once before any decoder sees it (jpeg_layout.py).
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np
from PIL import Image

from lwface_desktop.core import outputs
from lwface_desktop.core.errors import ImageError
from lwface_desktop.core.files import open_regular_file
from lwface_desktop.core.jpeg_layout import JpegLayout, cut_short, read_header, scan_layout

# 120 megapixels covers every phone and most medium-format cameras; one decoded copy is
# 360 MB. Decoding copies Pillow's image (4 bytes a pixel) into the array strip by strip, so
# `detect --output` on the largest photo peaks near 1 GB (tests/test_hostile_inputs.py).
MAX_PIXELS = 120_000_000
JPEG_SUFFIXES = (".jpg", ".jpeg", ".jpe", ".jfif")
SAVE_SUFFIXES = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG"}

_ORIENTATION = 0x0112       # the EXIF tag
_SIDEWAYS = (5, 6, 7, 8)    # orientations that swap width and height
JPEG_MAX_SIDE = 65_500      # libjpeg's limit, for a width or a height
_STRIP_BYTES = 8 << 20      # Pillow -> numpy copy in strips of this size: no second full copy
NAME_ATTEMPTS = 100         # save_new: another program taking the very name chosen, again and again


class SaveError(ImageError, outputs.OutputError):
    """save_image could not write the file (caught as either ImageError or OutputError)."""


class SaveDiskFull(SaveError, outputs.DiskFull):
    """save_image found the disk full (caught as outputs.DiskFull too)."""


class TooLargeForJpeg(SaveError):
    """A picture wider or higher than JPEG_MAX_SIDE, refused before encoding; width in pixels."""

    def __init__(self, message: str, width: int, height: int):
        super().__init__(message)
        self.width, self.height = width, height


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
    missing, empty, not a regular file, not a JPEG, truncated, damaged or larger than
    max_pixels. A broken EXIF block counts as "no orientation".
    """
    return open_photo(path, max_pixels=max_pixels).pixels


def open_photo(path: str | Path, min_side: int | None = None, max_pixels: int = MAX_PIXELS) -> Photo:
    """Like read_jpeg, but with min_side set, decode at the smallest JPEG scale (1/2, 1/4, 1/8)
    whose long side is still at least min_side: a detector that works on a 900 px copy
    needs no 12-megapixel decode, and the reduced decode is several times faster.
    """
    path = Path(path)
    name = path.name or str(path)
    with open_regular_file(path, error=ImageError) as f:
        try:
            size = os.fstat(f.fileno()).st_size
            read_header(f, name, size)
            layout = scan_layout(f, name, size)
            f.seek(0)
        except OSError as e:  # an I/O error on a failing disk or network share
            raise ImageError(f"{name} could not be read: {e.strerror or e}.") from None
        if layout.width * layout.height > max_pixels:
            raise ImageError(_too_large(name, layout.width, layout.height, max_pixels))
        return _decode(f, name, layout, min_side, max_pixels)


def _decode(f: BinaryIO, name: str, layout: JpegLayout, min_side: int | None, max_pixels: int) -> Photo:
    try:
        with warnings.catch_warnings():
            # Pillow warns about big images and odd metadata; the checks here decide.
            warnings.simplefilter("ignore")
            with Image.open(f, formats=["JPEG"]) as img:
                width, height = img.size
                if width * height > max_pixels:
                    raise ImageError(_too_large(name, width, height, max_pixels))
                if min_side and max(width, height) > min_side:
                    shrink = min_side / max(width, height)
                    img.draft(img.mode, (math.ceil(width * shrink), math.ceil(height * shrink)))
                img.load()
                orientation = _orientation(img)
                pixels = _to_rgb_array(img)
    except ImageError:
        raise
    except Image.DecompressionBombError:
        raise ImageError(f"{name} is too large: the largest supported photo has "
                         f"{max_pixels // 1_000_000} megapixels.") from None
    except MemoryError:
        raise ImageError(f"{name} needs more memory to decode than this computer has free.") from None
    except Exception as e:  # whatever a hostile file makes Pillow or libjpeg raise, it is damage
        text = str(e).lower()
        if not layout.complete or "truncated" in text or "premature end" in text:
            raise ImageError(cut_short(name)) from None
        raise ImageError(f"{name} is a damaged JPEG file and cannot be opened.") from None
    if orientation in _SIDEWAYS:
        width, height = height, width
    return Photo(_upright(pixels, orientation), width, height)


def _orientation(img: Image.Image) -> int:
    """The EXIF orientation 1-8; 1 for a missing, out-of-range or unreadable EXIF block."""
    try:
        value = img.getexif().get(_ORIENTATION, 1)
    except Exception:  # offsets out of range, absurd counts: the photo is fine, its EXIF is not
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _to_rgb_array(img: Image.Image) -> np.ndarray:
    """The decoded image as HxWx3 uint8 RGB, copied in strips: Pillow's own whole-image
    conversions would hold two more full-size copies at once."""
    width, height = img.size
    out = np.empty((height, width, 3), np.uint8)
    rows = max(1, _STRIP_BYTES // (4 * width))
    for top in range(0, height, rows):
        strip = img.crop((0, top, width, min(height, top + rows)))
        out[top:top + strip.height] = np.asarray(strip if strip.mode == "RGB" else strip.convert("RGB"))
    return out


# EXIF orientation -> the numpy view that makes the photo upright (as Pillow's exif_transpose).
_UPRIGHT = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.transpose(1, 0, 2),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),
    8: lambda a: np.rot90(a, 1),
}


def _upright(pixels: np.ndarray, orientation: int) -> np.ndarray:
    turn = _UPRIGHT.get(orientation)
    return pixels if turn is None else np.ascontiguousarray(turn(pixels))


def _too_large(name: str, width: int, height: int, max_pixels: int) -> str:
    return (f"{name} is {width} × {height} pixels ({width * height / 1e6:.0f} megapixels); "
            f"the largest supported photo has {max_pixels // 1_000_000} megapixels.")


def unused_path(folder: Path, stem: str, suffix: str) -> Path:
    """folder/stem.suffix, or stem-2, stem-3… if taken: never the name of an existing file
    (nor of a dangling symbolic link)."""
    candidate, n = folder / f"{stem}{suffix}", 2
    while os.path.lexists(candidate):
        candidate, n = folder / f"{stem}-{n}{suffix}", n + 1
    return candidate


def save_image(image: np.ndarray, path: str | Path, overwrite: bool = True) -> None:
    """Write an HxWx3 uint8 RGB array as JPEG or PNG, chosen by the file's extension.

    Written under a temporary name and renamed into place (outputs.writing): a failed save
    never leaves half a file. overwrite=False never replaces an existing file (OutputError);
    the default True is for saves the user confirmed in a dialog.
    """
    path = Path(path)
    _write(_encode(image, _format(path.name), path.name), path, overwrite)


def save_new(image: np.ndarray, folder: Path, stem: str, suffix: str = ".jpg") -> Path:
    """image (HxWx3 uint8 RGB) as a new file in folder, named stem + suffix, or stem-2,
    stem-3… if taken (unused_path); JPEG or PNG by suffix. Never over an existing file, even
    one another program writes between the choice of the name and the rename: then the next
    free name. Encoded once, however many names are tried. The path written."""
    encoded = _encode(image, _format(f"{stem}{suffix}"), f"{stem}{suffix}")
    for _ in range(NAME_ATTEMPTS):
        target = unused_path(folder, stem, suffix)
        try:
            _write(encoded, target, overwrite=False)  # refused if the name was taken meanwhile
        except SaveError:
            if not os.path.lexists(target):
                raise
            continue
        return target
    raise SaveError(f"Could not find a free name for {stem}{suffix} in {folder}.")


def _format(name: str) -> str:
    fmt = SAVE_SUFFIXES.get(Path(name).suffix.lower())
    if fmt is None:
        raise ImageError(f"{name}: choose a name ending in .jpg or .png.")
    return fmt


def _write(encoded: np.ndarray, path: Path, overwrite: bool) -> None:
    try:
        with outputs.writing(path, overwrite=overwrite) as temp:
            temp.write_bytes(encoded.data)
    except outputs.DiskFull as e:
        raise SaveDiskFull(str(e)) from None
    except outputs.OutputError as e:
        raise SaveError(str(e)) from None


def _encode(image: np.ndarray, fmt: str, name: str) -> np.ndarray:
    """The file's bytes. OpenCV encodes without holding the GIL (Pillow's PNG encoder held
    it for up to 0.6 s at a time on a 120 MP photo: the GUI thread stalled while a job saved).
    JPEG at quality 92, 4:2:0 (as before, with Pillow); PNG at zlib level 1: 4.6 times faster
    than Pillow's level 6 on a 12 MP photo, for a file 23% larger, and as lossless.
    Not cv2.imwrite, though it would spare the copy of the bytes into Python (~0.1 s with the
    GIL for a 55 MB PNG): it reported success writing to a full device, and crashed the process
    on a path that is not valid UTF-8. Here the write is Python's, whose errors are reported."""
    if fmt == "JPEG" and max(image.shape[:2]) > JPEG_MAX_SIDE:
        raise TooLargeForJpeg(f"{name} could not be written: a JPEG file can be at most {JPEG_MAX_SIDE:,} pixels "
                              "wide or high. Save it as PNG.", image.shape[1], image.shape[0])
    params = [cv2.IMWRITE_JPEG_QUALITY, 92] if fmt == "JPEG" else [cv2.IMWRITE_PNG_COMPRESSION, 1]
    try:
        ok, encoded = cv2.imencode(".jpg" if fmt == "JPEG" else ".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), params)
    except cv2.error as e:
        raise SaveError(f"{name} could not be written: the picture could not be encoded as {fmt} "
                        f"({str(e).strip().splitlines()[-1]}).") from None
    except MemoryError:
        raise SaveError(f"{name} could not be written: not enough memory to encode it.") from None
    if not ok:
        raise SaveError(f"{name} could not be written: the picture could not be encoded as {fmt}.")
    return encoded
