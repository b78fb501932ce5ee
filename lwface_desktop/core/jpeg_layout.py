"""A JPEG's structure, walked once without decoding: its size, its scans, whether it ends.

Before any decoder sees a file, read_header() and scan_layout() refuse what would cost a
decoder minutes or gigabytes (thousands of scans, megabytes of junk between markers, a file
of hundreds of MB) in one C-speed pass with capped counts, and say in words what is wrong.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import BinaryIO

from lwface_desktop.core.errors import ImageError

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

# First bytes of formats people often mistake for JPEG, to say what a file really is.
_SIGNATURES = {
    b"\x89PNG": "a PNG image",
    b"GIF8": "a GIF image",
    b"BM": "a BMP image",
    b"II*\x00": "a TIFF image",
    b"MM\x00*": "a TIFF image",
    b"%PDF": "a PDF document",
}

# After the first scan: the next marker is 0xFF then a byte that is not 0x00 (a stuffed 0xFF
# in the coded data), not 0xD0-0xD7 (restart markers inside a scan) and not 0xFF (fill).
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_FIRST_CHUNK, _MAX_CHUNK = 4096, 1 << 20  # read ahead for the search; grows while none is found


def _describe(head: bytes) -> str:
    for magic, what in _SIGNATURES.items():
        if head.startswith(magic):
            return what
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP image"
    if head[4:8] == b"ftyp":
        return "a HEIC or video file"
    return "not an image this app can read"


def read_header(f: BinaryIO, name: str, size: int) -> None:
    """The checks that need only the first bytes: empty, too big, not a JPEG at all."""
    head = f.read(16)
    if not head:
        raise ImageError(f"{name} is empty (0 bytes).")
    if len(head) < 3 and b"\xff\xd8\xff".startswith(head):
        raise ImageError(cut_short(name))
    if not head.startswith(b"\xff\xd8\xff"):
        raise ImageError(f"{name} is {_describe(head)}, not a JPEG. Only JPEG photos are supported.")
    if size > MAX_FILE_BYTES:
        raise ImageError(f"{name} is {size / 1e6:.0f} MB; the largest supported photo file is "
                         f"{MAX_FILE_BYTES // 1_000_000} MB (the largest camera JPEGs are about 60 MB).")


@dataclass(frozen=True)
class JpegLayout:
    width: int
    height: int
    scans: int
    complete: bool       # the end-of-image marker was found


def _is_frame_header(code: int) -> bool:
    # SOF0..SOF15 carry the size, except DHT (C4), JPG (C8) and DAC (CC).
    return 0xC0 <= code <= 0xCF and code not in (0xC4, 0xC8, 0xCC)


def scan_layout(f: BinaryIO, name: str, size: int) -> JpegLayout:
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
            raise ImageError(cut_short(name))
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
            raise ImageError(cut_short(name))
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
            raise ImageError(cut_short(name))
        length = int.from_bytes(length_bytes, "big")
        if length < 2:
            raise ImageError(damaged)
        if _is_frame_header(code) and frame is None:
            body = f.read(min(length - 2, 5))
            if len(body) < 5:
                raise ImageError(cut_short(name) if f.tell() >= size else damaged)
            frame = (int.from_bytes(body[3:5], "big"), int.from_bytes(body[1:3], "big"))
            f.seek(length - 2 - 5, os.SEEK_CUR)
        else:
            f.seek(length - 2, os.SEEK_CUR)
        if f.tell() > size:
            raise ImageError(cut_short(name))
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
            return JpegLayout(width, height, scans, complete=False)
        position, code = found
        if code == 0xD9:
            return JpegLayout(width, height, scans, complete=True)
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
            return JpegLayout(width, height, scans, complete=False)
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


def cut_short(name: str) -> str:
    return f"{name} is not a complete JPEG file (it was cut short)."


def _junk(name: str) -> str:
    return (f"{name} is a damaged JPEG file: it holds data that is not part of a picture "
            "where its next section should start.")


def _too_many_segments(name: str) -> str:
    return (f"{name} is a damaged JPEG file: it has more than {MAX_SEGMENTS} sections "
            "(a photo has a few dozen).")
