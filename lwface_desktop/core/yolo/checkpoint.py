"""Reading official YOLOv5 checkpoints without running anything in them.

A YOLOv5 `.pt` file is a pickle, and unpickling can call any function the file names:
that is how a malicious checkpoint runs code. Here torch's weights_only unpickler does
the reading, with an allow-list: YOLOv5's own class names (models.yolo.Model, ...) map to
an empty nn.Module that only holds attributes, plus the plain torch.nn layers and data types
these files contain. Anything else in the file is refused before it can run. What is kept
is data: the architecture (a dict), the class names, the strides and the weights.
"""

from __future__ import annotations

import pathlib
import pickle
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from lwface_desktop.core.errors import ModelError


class _Holder(nn.Module):
    """Stands in for every YOLOv5 class while unpickling: attributes only, no code of theirs."""


# The names official v6.x/v7.0 detection checkpoints use (and older v5 ones, Focus/SPP).
_YOLO_CLASSES = [f"models.yolo.{n}" for n in ("Model", "DetectionModel", "Detect")] + [
    f"models.common.{n}" for n in ("Conv", "C3", "Bottleneck", "SPPF", "SPP", "Concat", "Focus")]
_TORCH_CLASSES = [nn.Conv2d, nn.BatchNorm2d, nn.SiLU, nn.MaxPool2d, nn.Upsample, nn.Sequential,
                  nn.ModuleList, nn.Identity]
# Custom-trained checkpoints also store training options (paths) and numpy scalars.
_DATA_CLASSES = [pathlib.PosixPath, pathlib.WindowsPath, pathlib.PurePosixPath, pathlib.PureWindowsPath]
_ALLOWED = [(_Holder, name) for name in _YOLO_CLASSES] + _TORCH_CLASSES + _DATA_CLASSES
_load_lock = threading.Lock()  # torch's safe_globals() changes process-wide state


@dataclass(frozen=True)
class Checkpoint:
    """What a YOLOv5 checkpoint holds that is needed to rebuild it."""

    architecture: dict           # the model yaml: nc, depth/width multiples, anchors, backbone, head
    names: list[str]             # class names, index = class id
    strides: list[int]           # 8, 16, 32 (and 64 for P6 models)
    state: dict[str, torch.Tensor]


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a YOLOv5 detection checkpoint safely; ModelError with a readable message otherwise."""
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise ModelError(f"The model file {path} was not found." if not path.exists()
                         else f"{path} is a folder, not a model file.")
    if not zipfile.is_zipfile(path):
        raise ModelError(f"{name} is not a PyTorch model file (it may be incomplete or damaged).")
    try:
        with _load_lock, torch.serialization.safe_globals(_ALLOWED):
            raw = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        blocked = _blocked_name(str(e))
        if blocked:
            raise ModelError(f"{name} was refused: it asks to run '{blocked}', which a YOLOv5 "
                             "model never needs. Nothing in it was run.") from None
        raise ModelError(f"{name} could not be read safely: {str(e).splitlines()[0]}") from None
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile) as e:
        raise ModelError(f"{name} is incomplete or damaged and cannot be loaded ({_first_line(e)}).") from None
    return _from_raw(raw, name)


def _from_raw(raw: object, name: str) -> Checkpoint:
    module = None
    if isinstance(raw, dict):
        module = raw.get("ema") or raw.get("model")
    elif isinstance(raw, _Holder):
        module = raw
    architecture = getattr(module, "yaml", None)
    if not isinstance(module, _Holder) or not isinstance(architecture, dict) or "head" not in architecture:
        raise ModelError(f"{name} is not a YOLOv5 detection checkpoint (no YOLOv5 model inside).")
    names, stride = getattr(module, "names", None), getattr(module, "stride", None)
    if isinstance(names, dict):
        names = [names[i] for i in sorted(names)]
    if not isinstance(names, (list, tuple)) or not isinstance(stride, torch.Tensor):
        raise ModelError(f"{name} is not a complete YOLOv5 checkpoint (no class names or strides).")
    strides = [int(s) for s in stride.tolist()]
    state = {k: v.float() for k, v in module.state_dict().items() if not k.endswith("num_batches_tracked")}
    return Checkpoint(architecture, [str(n) for n in names], strides, state)


def _blocked_name(message: str) -> str | None:
    # torch says e.g. "Unsupported global: GLOBAL posix.system was not an allowed global ..."
    for line in message.splitlines():
        if "GLOBAL " in line:
            return line.split("GLOBAL ", 1)[1].split()[0]
    return None


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
