"""Opening an input file (a photo, a video) without ever blocking or following it into a loop.

A named pipe given as a photo would block a read for ever, a device never ends, a socket cannot
be opened: every input is checked to be a regular file before and after it is opened, and
each problem (a link loop, a dangling link, no permission) gets a sentence of its own.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from lwface_desktop.core.errors import UserError

_FILE_KINDS = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


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
def open_regular_file(path: str | Path, what: str = "JPEG photo",
                      error: type[UserError] = UserError) -> Iterator[BinaryIO]:
    """Open a regular file for reading without ever blocking; error(message) for anything else.

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
            raise error(f"{name!a} is not a valid file name.") from None
        raise error(_stat_problem(name, path, e)) from None
    _check_regular(name, info.st_mode, what, error)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise error(_stat_problem(name, path, e)) from None
    try:
        _check_regular(name, os.fstat(fd).st_mode, what, error)
        file = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with file:
        yield file


def _check_regular(name: str, mode: int, what: str, error: type[UserError]) -> None:
    if stat.S_ISDIR(mode):
        raise error(f"{name} is a folder, not a {what.split()[0]} file.")
    kind = file_kind(mode)
    if kind is not None:
        raise error(f"{name} is not a regular file ({kind}); only {what} files can be opened.")
