"""Many photos at once: what a drop, File › Open folder… or `detect FOLDER` means, as a list.

collect_photos() turns the paths a person gave (files and folders, in any mix) into the JPEG
photos to work through, in a natural order (photo2 before photo10), and the rest, each with
a reason in words ("not a JPEG", "unreadable folder: permission denied"). Folders are walked
recursively; a folder reached twice (a symbolic link back up the tree, the same folder
dropped twice) is walked once, and a file reached twice by name or symbolic link is listed
once (hard links are separate names and each is listed). Nothing is opened here but
folders: whether a .jpg really is a JPEG is for the decoder (images.open_photo) to say when
the photo's turn comes. Bounded: at most `limit` photos and SKIPPED_LISTED skipped entries
are listed (the rest only counted), MAX_ENTRIES names looked at and MAX_DEPTH folders deep,
so a drop of a whole disk ends in bounded time and memory. Walking a big tree on a slow
disk still takes a while: the GUI calls this in a job.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lwface_desktop.core.files import file_kind
from lwface_desktop.core.images import JPEG_SUFFIXES

MAX_PHOTOS = 10_000     # a list longer than this is not one sitting's work; the rest is said, not listed
SKIPPED_LISTED = 1_000  # skipped entries kept with their reason; more are only counted
MAX_DEPTH = 64          # folders deeper than this are skipped (a folder inside itself a thousand times)
MAX_ENTRIES = 200_000   # names looked at in all: a drop of a whole disk ends in seconds, not hours

_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple:
    """Sort key that orders names as people do: IMG_2.jpg before IMG_10.jpg, case ignored."""
    return tuple(int(part) if part.isdigit() else part.casefold() for part in _DIGITS.split(name))


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str  # in words: "not a JPEG", "unreadable folder: permission denied", …


@dataclass
class PhotoList:
    photos: list[Path] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)  # the first SKIPPED_LISTED of them
    skipped_count: int = 0   # all of them, listed or not
    more_than: int = 0       # the limit, when more photos were found than it allows; else 0
    looked_at: int = 0       # names looked at, up to MAX_ENTRIES

    def summary(self) -> str:
        """'200 photos', '12 photos, 3 files skipped', with the limit said when it was hit."""
        text = f"{len(self.photos)} photo{'' if len(self.photos) == 1 else 's'}"
        if self.cut_short():
            text += f" ({self.cut_short()})"
        if self.skipped_count:
            text += f", {self.skipped_count} skipped"
        return text

    def cut_short(self) -> str:
        """Why the list stops before the end of what was given ("" if it does not)."""
        if self.more_than:
            return f"only the first {self.more_than}; there are more"
        if self.looked_at >= MAX_ENTRIES:
            return f"only the first {MAX_ENTRIES} files were looked at"
        return ""

    def _skip(self, path: Path, reason: str) -> None:
        self.skipped_count += 1
        if len(self.skipped) < SKIPPED_LISTED:
            self.skipped.append(Skipped(path, reason))


def is_jpeg_name(path: Path) -> bool:
    return path.suffix.lower() in JPEG_SUFFIXES


def collect_photos(paths: Iterable[str | Path], limit: int = MAX_PHOTOS) -> PhotoList:
    """The JPEG photos among paths and in the folders among them (recursively), and what was
    skipped and why. A file given by name is taken if its name ends in a JPEG suffix
    (.jpg, .jpeg, .jpe, .jfif, any case); files and folders whose name begins with a dot are
    skipped as hidden."""
    found = PhotoList()
    seen: set = set()  # (device, inode) of every folder walked, real path of every photo listed
    for path in paths:
        if len(found.photos) >= limit:
            found.more_than = limit
            break
        _visit(Path(path), found, seen, limit, given=True)
    return found


def _visit(path: Path, found: PhotoList, seen: set, limit: int, given: bool = False, depth: int = 0) -> None:
    found.looked_at += 1
    try:
        info = os.stat(path)
    except (OSError, ValueError) as e:
        found._skip(path, _missing_reason(path, e))
        return
    if not given and path.name.startswith("."):
        found._skip(path, "hidden")
        return
    if stat.S_ISDIR(info.st_mode):
        if depth > MAX_DEPTH:
            found._skip(path, f"a folder more than {MAX_DEPTH} folders deep")
        elif (info.st_dev, info.st_ino) not in seen:  # else reached before: a link back up, dropped twice
            seen.add((info.st_dev, info.st_ino))
            _walk(path, found, seen, limit, depth)
        return
    kind = file_kind(info.st_mode)
    if kind is not None:
        found._skip(path, f"not a regular file ({kind})")
    elif not is_jpeg_name(path):
        found._skip(path, "not a JPEG")
    elif len(found.photos) >= limit:
        found.more_than = limit
    elif (real := os.path.realpath(path)) not in seen:  # a symbolic link to a photo listed, or listed twice
        seen.add(real)
        found.photos.append(path)


def _walk(folder: Path, found: PhotoList, seen: set, limit: int, depth: int) -> None:
    try:
        with os.scandir(folder) as entries:
            names = sorted((entry.name for entry in entries), key=natural_key)
    except OSError as e:
        found._skip(folder, f"unreadable folder: {_why(e)}")
        return
    for name in names:
        if len(found.photos) >= limit:
            found.more_than = limit
            return
        if found.looked_at >= MAX_ENTRIES:
            return
        _visit(folder / name, found, seen, limit, depth=depth + 1)


def _missing_reason(path: Path, e: OSError | ValueError) -> str:
    if isinstance(e, ValueError):
        return "not a valid file name"
    if os.path.islink(path):
        return "a link loop" if getattr(e, "errno", None) == errno.ELOOP else "a link to nothing"
    return f"cannot be read: {_why(e)}"


def _why(e: OSError) -> str:
    return (e.strerror or str(e)).lower()
