"""Writing results without ever destroying anything of the user's.

Every file the app writes (annotated photos, videos, JSON lines, snapshots) goes through
writing(): it is written under a fresh temporary name beside the target and renamed into
place only when complete, so a crash, Ctrl+C or SIGTERM leaves either the whole file or
nothing. check_outputs() compares every output with every input by identity (samefile, so
a hard link or a symlink to an input counts) and with each other.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from lwface_desktop.core.errors import UserError

TEMP_PREFIX = ".lwface-"
TEMP_SUFFIX = ".partial"


class OutputError(UserError):
    """An output that would destroy something, or cannot be written; the message says which."""


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): compare where they would be
        return os.path.abspath(a) == os.path.abspath(b)


def check_outputs(outputs: Iterable[str | Path | None], inputs: Iterable[str | Path]) -> None:
    """OutputError if an output is one of the inputs (by identity) or two outputs are one file."""
    inputs = [Path(p) for p in inputs]
    seen: list[Path] = []
    for output in (Path(p) for p in outputs if p is not None):
        for source in inputs:
            if _same_file(output, source):
                raise OutputError(f"{output} is the input {source.name}: writing it would destroy it. "
                                  "Choose another name.")
        for other in seen:
            if _same_file(output, other):
                raise OutputError(f"{output} is given twice as an output; each needs its own name.")
        seen.append(output)


@contextlib.contextmanager
def writing(target: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yields a new temporary path beside target to write to; renames it onto target when the
    block ends without an error, else deletes it. Without overwrite, an existing target is
    never replaced (OutputError), checked again atomically at the rename."""
    target = Path(target)
    if not overwrite and target.exists():
        raise OutputError(f"{target} already exists; choose another name.")
    try:
        handle, temp_name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{target.stem}-", suffix=TEMP_SUFFIX + target.suffix,
                                             dir=target.parent)
    except OSError as e:
        raise OutputError(f"Cannot write in {target.parent}: {e.strerror or e}.") from None
    os.close(handle)
    temp = Path(temp_name)
    try:
        yield temp
        if overwrite:
            os.replace(temp, target)
        else:
            os.link(temp, target)  # fails if target appeared meanwhile: never replaced
    except FileExistsError:
        raise OutputError(f"{target} already exists; choose another name.") from None
    except OSError as e:
        raise OutputError(f"Could not write {target}: {e.strerror or e}.") from None
    finally:
        temp.unlink(missing_ok=True)
