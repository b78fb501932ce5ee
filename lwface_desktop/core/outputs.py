"""Writing results without ever destroying anything of the user's.

Every file the app writes (annotated photos, videos, JSON lines, snapshots) goes through
writing(): it is written under a fresh temporary name beside the target (mkstemp: never the
name of an existing file) and renamed into place only when complete, so a crash, Ctrl+C or
SIGTERM leaves either the whole file or nothing. Without overwrite the rename is a hard link,
which fails if the target appeared meanwhile, so an existing file is never replaced.
check_outputs() compares every output with every input by identity (samefile, so a hard
link or a symlink to an input counts) and with each other.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from lwface_desktop.core.errors import UserError

TEMP_PREFIX = ".lwface-"
TEMP_SUFFIX = ".partial"
_TEMP_STEM_CHARS = 40  # of the target's name in the temporary one: a 255-byte name still fits

# What link() says on filesystems without hard links (FAT, exFAT, some network shares).
_NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS}


class OutputError(UserError):
    """An output that would destroy something, or cannot be written; the message says which."""


class DiskFull(OutputError):
    """The disk is full: a run of many outputs stops, as every next one would fail too."""


def same_file(a: Path, b: Path) -> bool:
    """a and b are one file (a hard link, a symlink to it), or would be where they do not exist."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):  # one does not exist (yet), a link loop, a NUL in a name:
        return os.path.realpath(a) == os.path.realpath(b)  # compare where they would be


def check_outputs(outputs: Iterable[str | Path | None], inputs: Iterable[str | Path]) -> None:
    """OutputError if an output is one of the inputs (by identity) or two outputs are one file."""
    sources = [Path(p) for p in inputs]
    seen: list[Path] = []
    for output in (Path(p) for p in outputs if p is not None):
        for source in sources:
            if same_file(output, source):
                raise OutputError(f"{output} is the input {source.name}: writing it would destroy it. "
                                  "Choose another name.")
        for other in seen:
            if same_file(output, other):
                raise OutputError(f"{output} is given twice as an output; each needs its own name.")
        seen.append(output)


def _folder_problem(folder: Path, name: str, e: OSError) -> str:
    if e.errno == errno.ENOENT:
        return f"The folder {folder} does not exist, so {name} cannot be written there."
    if e.errno == errno.ENOTDIR:
        return f"{folder} is not a folder, so {name} cannot be written there."
    if e.errno in (errno.EACCES, errno.EPERM):
        return f"You do not have permission to write in the folder {folder}."
    if e.errno == errno.EROFS:
        return f"The folder {folder} is on a read-only disk."
    if e.errno == errno.ENOSPC:
        return f"The disk holding {folder} is full."
    return f"Cannot write in the folder {folder}: {e.strerror or e}."


def write_error(target: Path, e: OSError) -> OutputError:
    """The OutputError (DiskFull for ENOSPC) to raise for an OSError while writing target."""
    if e.errno == errno.ENOSPC:
        return DiskFull(f"Could not write {target}: the disk is full.")
    return OutputError(f"Could not write {target}: {e.strerror or e}.")


def _is_special(path: Path) -> bool:
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISLNK(mode) or stat.S_ISDIR(mode))


def _put_in_place(temp: Path, target: Path, overwrite: bool) -> None:
    if overwrite:
        os.replace(temp, target)
        return
    try:
        os.link(temp, target)  # fails if target appeared meanwhile: never replaced
    except OSError as e:
        if e.errno not in _NO_HARD_LINKS:
            raise
        # No hard links here: check, then rename. Only a file created in the instant
        # between the two could be replaced, which no program of the user's does by chance.
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, "exists", str(target)) from None
        os.replace(temp, target)


def _exists(target: Path, how_to_replace: str = "") -> str:
    return f"{target} already exists; {how_to_replace}choose another name."


def refuse_existing(target: str | Path, how_to_replace: str = "") -> None:
    """OutputError if something (even a dangling link) is at target; how_to_replace, e.g.
    "add --overwrite to replace it, or ", is said before "choose another name"."""
    if os.path.lexists(target):
        raise OutputError(_exists(Path(target), how_to_replace))


def _new_temp(folder: Path, prefix: str, suffix: str) -> Path:
    """A new empty file with a random name in folder, never one that exists. Created with
    mode 0o666 like any new file, so the user's umask decides who may read it (mkstemp's
    0o600 would make every result private)."""
    for _ in range(100):
        path = folder / f"{prefix}{secrets.token_hex(4)}{suffix}"
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0), 0o666))
        except FileExistsError:
            continue
        return path
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(folder))


@contextlib.contextmanager
def writing(target: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yields a new temporary path beside target to write to; renames it onto target when the
    block ends without an error, else deletes it. Without overwrite, an existing target is
    never replaced (OutputError), checked again atomically at the rename. An OSError in the
    block becomes an OutputError naming target."""
    target = Path(target)
    if target.is_dir():
        raise OutputError(f"{target} is a folder; give the name of a file to write.")
    if not overwrite:
        refuse_existing(target)
    if overwrite and _is_special(target):  # /dev/null, a named pipe: never replaced by a file
        raise OutputError(f"{target} is not a regular file, so it is not replaced; choose another name.")
    folder = target.parent
    try:
        temp = _new_temp(folder, f"{TEMP_PREFIX}{target.stem[:_TEMP_STEM_CHARS]}-",
                         TEMP_SUFFIX + target.suffix[:_TEMP_STEM_CHARS])
    except OSError as e:
        raise (DiskFull if e.errno == errno.ENOSPC else OutputError)(_folder_problem(folder, target.name, e)) from None
    try:
        yield temp
        if overwrite and os.path.isfile(target):
            shutil.copymode(target, temp)  # a replaced file keeps who may read it
        _put_in_place(temp, target, overwrite)
    except FileExistsError:
        raise OutputError(_exists(target)) from None
    except IsADirectoryError:
        raise OutputError(f"{target} is a folder; give the name of a file to write.") from None
    except OSError as e:
        raise write_error(target, e) from None
    finally:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)
