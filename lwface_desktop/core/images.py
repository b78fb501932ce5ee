"""Reading photos and writing results. All image validation lives here.

read_jpeg() turns any JPEG a camera or phone produces into an HxWx3 uint8 RGB array,
and turns everything else into an ImageError whose message a person understands, in
bounded time and memory: the file's type is checked before it is read (a named pipe or a
device would block or never end), its size is capped, and its markers are walked once
(C-speed search, a capped count of segments) before any decoder sees it.
"""

from __future__ import annotations

import errno
import math
import os
import re
import stat
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image

from lwface_desktop.core import outputs
from lwface_desktop.core.errors import UserError

# 120 megapixels covers every phone and most medium-format cameras; one decoded copy is
# 360 MB. Decoding copies Pillow's image (4 bytes a pixel) into the array strip by strip, so
# `detect --output` on the largest photo peaks near 1 GB (tests/test_hostile_inputs.py).
MAX_PIXELS = 120_000_000
# The largest camera JPEGs (120 MP, finest quality) are about 60 MB; 150 MB leaves room for
# noisy scans at quality 100 and appended extras (an MPO's second picture, a motion photo),
# and bounds the one pass over the file that checks its markers.
MAX_FILE_BYTES = 150_000_000
# A progressive JPEG stores the picture in scans; libjpeg writes 10 and optimisers ~20, but
# the decoder walks every block once per scan, so thousands of scans take minutes.
MAX_SCANS = 100
# Markers of any kind in one file (tables, metadata, scans): real files have a few dozen.
MAX_SEGMENTS = 10_000
# Bytes that are not markers where a marker belongs (junk or 0xFF fill). Decoders skip them
# one by one; a few are harmless, megabytes of them are not a photo.
MAX_JUNK_BYTES = 4096

JPEG_SUFFIXES = (".jpg", ".jpeg", ".jpe", ".jfif")
SAVE_SUFFIXES = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG"}

_ORIENTATION = 0x0112       # the EXIF tag
_SIDEWAYS = (5, 6, 7, 8)    # orientations that swap width and height
_STRIP_BYTES = 8 << 20      # Pillow -> numpy copy in strips of this size: no second full copy

# First bytes of formats people often mistake for JPEG, to say what a file really is.
_SIGNATURES = {
    b"\x89PNG": "a PNG image",
    b"GIF8": "a GIF image",
    b"BM": "a BMP image",
    b"II*\x00": "a TIFF image",
    b"MM\x00*": "a TIFF image",
    b"%PDF": "a PDF document",
}

_FILE_KINDS = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)

# After the first scan: the next marker is 0xFF then a byte that is not 0x00 (a stuffed 0xFF
# in the coded data), not 0xD0-0xD7 (restart markers inside a scan) and not 0xFF (fill).
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_FIRST_CHUNK, _MAX_CHUNK = 4096, 1 << 20  # read ahead for the search; grows while none is found


class ImageError(UserError):
    """A photo could not be used; str(error) is the message to show the user."""


class SaveError(ImageError, outputs.OutputError):
    """save_image could not write the file (caught as either ImageError or OutputError)."""


def _describe(head: bytes) -> str:
    for magic, what in _SIGNATURES.items():
        if head.startswith(magic):
            return what
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP image"
    if head[4:8] == b"ftyp":
        return "a HEIC or video file"
    return "not an image this app can read"


def file_kind(mode: int) -> str | None:
    """'a named pipe', 'a socket', … for st_mode of a file that is neither regular nor a folder."""
    for test, kind in _FILE_KINDS:
        if test(mode):
            return kind
    return None if stat.S_ISREG(mode) or stat.S_ISDIR(mode) else "not a regular file"


def _stat_problem(name: str, path: Path, e: OSError) -> str:
    if e.errno == errno.ELOOP:
        return f"{name} is a symbolic link that leads back to itself (a link loop), so there is no file to read."
    if e.errno == errno.ENOENT and os.path.islink(path):
        return f"{name} is a symbolic link to a file that does not exist."
    if e.errno in (errno.ENOENT, errno.ENOTDIR):
        return f"{name} was not found."
    if e.errno in (errno.EACCES, errno.EPERM):
        return f"{name} could not be read: you do not have permission to open it."
    if e.errno == errno.ENAMETOOLONG:
        return f"{name[:60]}… has a name too long for this system."
    return f"{name} could not be read: {e.strerror or e}."


@contextmanager
def open_regular_file(path: str | Path, what: str = "JPEG photo") -> Iterator[BinaryIO]:
    """Open a regular file for reading without ever blocking; ImageError for anything else.

    The type is checked with stat before opening (a socket cannot even be opened, a device
    may have side effects), the open is non-blocking (a named pipe swapped in after the
    check cannot block), and the opened file is checked again with fstat.
    """
    path = Path(path)
    name = path.name or str(path)
    try:
        info = os.stat(path)
    except (OSError, ValueError) as e:
        if isinstance(e, ValueError):  # a NUL byte in the name
            raise ImageError(f"{name!a} is not a valid file name.") from None
        raise ImageError(_stat_problem(name, path, e)) from None
    _check_regular(name, info.st_mode, what)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise ImageError(_stat_problem(name, path, e)) from None
    try:
        _check_regular(name, os.fstat(fd).st_mode, what)
        file = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with file:
        yield file


def _check_regular(name: str, mode: int, what: str) -> None:
    if stat.S_ISDIR(mode):
        raise ImageError(f"{name} is a folder, not a {what.split()[0]} file.")
    kind = file_kind(mode)
    if kind is not None:
        raise ImageError(f"{name} is not a regular file ({kind}); only {what} files can be opened.")


def _read_header(f: BinaryIO, name: str, size: int) -> None:
    """The checks that need only the first bytes: empty, too big, not a JPEG at all."""
    head = f.read(16)
    if not head:
        raise ImageError(f"{name} is empty (0 bytes).")
    if len(head) < 3 and b"\xff\xd8\xff".startswith(head):
        raise ImageError(_cut_short(name))
    if not head.startswith(b"\xff\xd8\xff"):
        raise ImageError(f"{name} is {_describe(head)}, not a JPEG. Only JPEG photos are supported.")
    if size > MAX_FILE_BYTES:
        raise ImageError(f"{name} is {size / 1e6:.0f} MB; the largest supported photo file is "
                         f"{MAX_FILE_BYTES // 1_000_000} MB (the largest camera JPEGs are about 60 MB).")


@dataclass(frozen=True)
class _Layout:
    width: int
    height: int
    scans: int
    complete: bool       # the end-of-image marker was found


def _is_frame_header(code: int) -> bool:
    # SOF0..SOF15 carry the size, except DHT (C4), JPG (C8) and DAC (CC).
    return 0xC0 <= code <= 0xCF and code not in (0xC4, 0xC8, 0xCC)


def _scan_layout(f: BinaryIO, name: str, size: int) -> _Layout:
    """Walk the JPEG's markers once, without decoding: the frame size, the number of scans,
    whether it ends. ImageError for a file cut short, junk where markers belong, or more
    scans or segments than any camera writes. Time: one C-speed pass, capped segment count."""
    damaged = f"{name} is a damaged JPEG file and cannot be opened."
    f.seek(2)  # after the start-of-image marker
    junk = segments = 0
    frame: tuple[int, int] | None = None
    # Header: markers back to back up to the first scan.
    while True:
        byte = f.read(1)
        if not byte:
            raise ImageError(_cut_short(name))
        if byte != b"\xff":
            junk += 1
            if junk > MAX_JUNK_BYTES:
                raise ImageError(_junk(name))
            continue
        code_byte = f.read(1)
        while code_byte == b"\xff":  # fill bytes before a marker
            junk += 1
            if junk > MAX_JUNK_BYTES:
                raise ImageError(_junk(name))
            code_byte = f.read(1)
        if not code_byte:
            raise ImageError(_cut_short(name))
        code = code_byte[0]
        if code == 0x00 or code == 0x01 or 0xD0 <= code <= 0xD7:  # stray or standalone markers
            junk += 1
            if junk > MAX_JUNK_BYTES:
                raise ImageError(_junk(name))
            continue
        if code in (0xD8, 0xD9):  # a second start, or the end before any picture
            raise ImageError(damaged)
        segments += 1
        if segments > MAX_SEGMENTS:
            raise ImageError(_too_many_segments(name))
        length_bytes = f.read(2)
        if len(length_bytes) < 2:
            raise ImageError(_cut_short(name))
        length = int.from_bytes(length_bytes, "big")
        if length < 2:
            raise ImageError(damaged)
        if _is_frame_header(code) and frame is None:
            body = f.read(min(length - 2, 5))
            if len(body) < 5:
                raise ImageError(_cut_short(name) if f.tell() >= size else damaged)
            frame = (int.from_bytes(body[3:5], "big"), int.from_bytes(body[1:3], "big"))
            f.seek(length - 2 - 5, os.SEEK_CUR)
        else:
            f.seek(length - 2, os.SEEK_CUR)
        if f.tell() > size:
            raise ImageError(_cut_short(name))
        if code == 0xDA:  # start of the first scan: the coded picture follows
            break
    if frame is None:
        raise ImageError(f"{name} is a damaged JPEG file: it has no frame header giving its size.")
    width, height = frame
    if width == 0 or height == 0:
        raise ImageError(f"{name} is a damaged JPEG file: its header gives a size of "
                         f"{width} × {height} pixels.")
    # Coded data: find each following marker with one regular-expression search per chunk.
    scans, position = 1, f.tell()
    while True:
        found = _find_marker(f, position)
        if found is None:
            return _Layout(width, height, scans, complete=False)
        position, code = found
        if code == 0xD9:
            return _Layout(width, height, scans, complete=True)
        if code == 0x01:
            continue
        segments += 1
        if segments > MAX_SEGMENTS:
            raise ImageError(_too_many_segments(name))
        if code == 0xDA:
            scans += 1
            if scans > MAX_SCANS:
                raise ImageError(f"{name} has more than {MAX_SCANS} scans (cameras write at most about "
                                 "20); decoding it would take far too long, so it is refused as damaged.")
        f.seek(position)
        length_bytes = f.read(2)
        if len(length_bytes) < 2:
            return _Layout(width, height, scans, complete=False)
        position += max(int.from_bytes(length_bytes, "big"), 2)


def _find_marker(f: BinaryIO, start: int) -> tuple[int, int] | None:
    """(offset just past the marker, its code) of the first marker at or after start.
    The read-ahead starts small and doubles, so close markers cost little and far ones
    are found in few reads: the whole walk reads the file about once."""
    size = _FIRST_CHUNK
    while True:
        f.seek(start)
        chunk = f.read(size)
        match = _NEXT_MARKER.search(chunk)
        if match:
            return start + match.end(), chunk[match.end() - 1]
        if len(chunk) < size:
            return None
        start += len(chunk) - 1  # a 0xFF at the chunk's end may begin a marker
        size = min(2 * size, _MAX_CHUNK)


def _cut_short(name: str) -> str:
    return f"{name} is not a complete JPEG file (it was cut short)."


def _junk(name: str) -> str:
    return (f"{name} is a damaged JPEG file: it holds data that is not part of a picture "
            "where its next section should start.")


def _too_many_segments(name: str) -> str:
    return (f"{name} is a damaged JPEG file: it has more than {MAX_SEGMENTS} sections "
            "(a photo has a few dozen).")


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
    with open_regular_file(path) as f:
        try:
            size = os.fstat(f.fileno()).st_size
            _read_header(f, name, size)
            layout = _scan_layout(f, name, size)
            f.seek(0)
        except OSError as e:  # an I/O error on a failing disk or network share
            raise ImageError(f"{name} could not be read: {e.strerror or e}.") from None
        if layout.width * layout.height > max_pixels:
            raise ImageError(_too_large(name, layout.width, layout.height, max_pixels))
        return _decode(f, name, layout, min_side, max_pixels)


def _decode(f: BinaryIO, name: str, layout: _Layout, min_side: int | None, max_pixels: int) -> Photo:
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
            raise ImageError(_cut_short(name)) from None
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
    fmt = SAVE_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise ImageError(f"{path.name}: choose a name ending in .jpg or .png.")
    options = {"quality": 92} if fmt == "JPEG" else {}
    try:
        with outputs.writing(path, overwrite=overwrite) as temp:
            Image.fromarray(image).save(temp, fmt, **options)
    except outputs.OutputError as e:
        raise SaveError(str(e)) from None
