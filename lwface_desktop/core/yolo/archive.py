"""The first two checks of a YOLOv5 checkpoint, before torch reads it (checkpoint.py runs them):
the zip's directory (entry count, sizes, compression ratios within bounds, read without letting
zipfile parse a directory of millions of entries) and the pickle's opcodes, walked without
running them, naming only allowed globals.
"""

from __future__ import annotations

import pickletools
import re
import struct
import zipfile
from pathlib import Path

from lwface_desktop.core.errors import ModelError

# The archive's contents, uncompressed. yolov5x6, the largest official model, is 270 MB
# (float16) and yolov5x 170 MB; 512 MB leaves room for custom models while bounding what
# loading can read into memory.
MAX_ARCHIVE_BYTES = 512 * 1024 * 1024
MAX_ENTRIES = 20_000                  # one per tensor, plus 6; yolov5x6 has about 1000
MAX_DIRECTORY_BYTES = 8 * 1024 * 1024  # the zip's table of entries (~100 bytes each)
# torch.save stores entries uncompressed. A compressed entry that expands more than this is a
# zip bomb (checked above 1 MB: tiny entries can legitimately compress well).
MAX_COMPRESSION_RATIO = 50
# The pickle: model structure, architecture, names. yolov5n's is 83 KB, yolov5x6's about
# 300 KB. Each opcode makes at most one Python object (~100 bytes), so both bounds together
# bound the memory unpickling can take to about 100 MB.
MAX_PICKLE_BYTES = 4 * 1024 * 1024
MAX_PICKLE_OPCODES = 1_000_000        # yolov5n has 40 000


# -- 1. the zip -----------------------------------------------------------------------------------

def check_archive(path: Path, name: str, allowed: frozenset[str]) -> None:
    """ModelError unless path is a zip laid out as torch saves one, within the bounds above, whose
    pickle names only allowed globals (read without running anything)."""
    damaged = ModelError(f"{name} is not a PyTorch model file (it may be incomplete or damaged).")
    directory = _directory_size(path)
    if directory is None:
        raise damaged
    if directory > MAX_DIRECTORY_BYTES:
        raise ModelError(f"{name} was refused: it lists more files than any YOLOv5 model has.")
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            _check_entries(entries, name)
            prefix = entries[0].filename.split("/", 1)[0]
            data = archive.read(f"{prefix}/data.pkl")
    except ModelError:
        raise
    except Exception:  # BadZipFile, and whatever else zipfile meets in a corrupt directory or entry
        raise damaged from None
    _check_pickle(data, name, allowed)


def _directory_size(path: Path) -> int | None:
    """The size of the zip's central directory, read from its end record as zipfile does, so
    that zipfile is not asked to parse a directory of millions of entries; None if not a zip."""
    with path.open("rb") as f:
        size = f.seek(0, 2)
        start = max(size - (1 << 16) - 22 - 76, 0)  # a comment of up to 64 KB, and the Zip64 records before
        f.seek(start)
        tail = f.read()
    end = len(tail) - 22 if tail[-22:-18] == b"PK\x05\x06" and tail[-2:] == b"\0\0" else tail.rfind(b"PK\x05\x06")
    if end < 0 or len(tail) - end < 22:
        return None
    directory = struct.unpack("<L", tail[end + 12:end + 16])[0]
    locator, record = end - 20, end - 20 - 56  # a Zip64 end record (torch always writes one) overrides it
    if record >= 0 and tail[locator:locator + 4] == b"PK\x06\x07" and tail[record:record + 4] == b"PK\x06\x06":
        directory = struct.unpack("<Q", tail[record + 40:record + 48])[0]
    return directory


def _check_entries(entries: list[zipfile.ZipInfo], name: str) -> None:
    if not entries:
        raise ModelError(f"{name} is not a PyTorch model file (it is an empty archive).")
    if len(entries) > MAX_ENTRIES:
        raise ModelError(f"{name} was refused: it holds {len(entries)} files, more than any YOLOv5 model "
                         f"({MAX_ENTRIES} at most).")
    names = [entry.filename for entry in entries]
    prefix = names[0].split("/", 1)[0] + "/"
    if len(set(names)) != len(names) or not all(n.startswith(prefix) for n in names):
        raise ModelError(f"{name} is not a PyTorch model file (its archive is not laid out as torch saves one).")
    pickles = [entry for entry in entries if entry.filename == f"{prefix}data.pkl"]
    if not pickles:
        raise ModelError(f"{name} is not a PyTorch model file (it has no data.pkl).")
    total = 0
    for entry in entries:
        if entry.flag_bits & 0x1 or entry.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ModelError(f"{name} is not a PyTorch model file (it is encrypted or compressed unusually).")
        total += entry.file_size
        if total > MAX_ARCHIVE_BYTES:
            raise ModelError(f"{name} was refused: it would expand to more than {MAX_ARCHIVE_BYTES >> 20} MB, "
                             "more than any YOLOv5 model (the largest official one is 270 MB).")
        if (entry.compress_type != zipfile.ZIP_STORED and entry.file_size > 1 << 20
                and entry.file_size > MAX_COMPRESSION_RATIO * max(entry.compress_size, 1)):
            raise ModelError(f"{name} was refused: it is compressed {entry.file_size // max(entry.compress_size, 1)}"
                             " times over, which model weights never are (a 'zip bomb').")
    if pickles[0].file_size > MAX_PICKLE_BYTES:
        raise ModelError(f"{name} was refused: its description of the model is {pickles[0].file_size >> 20} MB, "
                         f"more than any YOLOv5 model's ({MAX_PICKLE_BYTES >> 20} MB at most).")


# -- 2. the pickle, read without running it --------------------------------------------------------

def _check_pickle(data: bytes, name: str, allowed: frozenset[str]) -> None:
    try:
        for count, (opcode, argument, _) in enumerate(pickletools.genops(data)):
            if count >= MAX_PICKLE_OPCODES:
                raise ModelError(f"{name} was refused: its description of the model is more complex "
                                 "than any YOLOv5 model's.")
            if opcode.name in ("GLOBAL", "INST"):
                qualified = str(argument).replace(" ", ".")
                if qualified not in allowed:
                    raise refused(name, qualified)
            elif opcode.name in ("STACK_GLOBAL", "OBJ", "EXT1", "EXT2", "EXT4"):
                raise refused(name, "a function it names indirectly")
    except ModelError:
        raise
    except Exception:  # genops: ValueError for unknown opcodes, truncated data, no STOP
        raise ModelError(f"{name} is incomplete or damaged and cannot be loaded (its model description "
                         "is not a valid pickle).") from None


def refused(name: str, what: str) -> ModelError:
    shown = f"'{what}'" if re.fullmatch(r"[\w.]{1,80}", what) else what if " " in what else "an unknown function"
    return ModelError(f"{name} was refused: it asks to run {shown}, which a YOLOv5 model never needs. "
                      "Nothing in it was run.")
