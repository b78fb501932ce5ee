"""Reading YOLOv5 checkpoints without running anything in them, in bounded time and memory.

A YOLOv5 `.pt` file is a zip: a pickle (data.pkl) and one record per tensor storage. Unpickling
can call any function the file names: that is how a malicious checkpoint runs code. Even what
torch's weights_only loader allows can be asked for gigabytes by a file of a few bytes
(bytearray(10**10), or a torch.nn layer class called with huge sizes). So, in this order, and
before anything big is allocated:

1. the zip's directory: entry count, sizes and compression ratios within bounds (archive.py);
2. the pickle's opcodes, read without running them (archive.py): only the globals YOLOv5 checkpoints use
   (YOLOv5's and torch.nn's layer classes, tensor rebuilding, OrderedDict, set, paths);
3. torch's weights_only unpickler, with every layer class (YOLOv5's and torch.nn's) mapped to
   _Stored, which keeps attributes and cannot be called: nothing of the file runs, and no layer
   is ever built from the file's own arguments;
4. the contents: the architecture (architecture.plan_architecture: bounded, and consistent with the
   strides), the class names, then the weights: plain floating-point CPU tensors backed by data
   really in the file, with exactly the names and shapes the architecture needs, finite.

Every failure is a ModelError naming the file, in plain sentences.
"""

from __future__ import annotations

import pickle
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

import torch

from lwface_desktop.core.errors import ModelError
from lwface_desktop.core.yolo.architecture import MAX_STRIDE, MIN_STRIDE, ArchitectureError, plan_architecture
from lwface_desktop.core.yolo.archive import check_archive, refused
from lwface_desktop.core.yolo.model import YoloV5

MAX_NAME_LENGTH = 100                 # characters in one class name
MAX_NESTING = 16                      # modules inside modules; YOLOv5 nests 7 deep
MAX_MODULES = 20_000                  # yolov5x6 has 733

# The names official v6.x/v7.0 detection checkpoints use (and older v5 ones, Focus/SPP).
_YOLO_CLASSES = [f"models.yolo.{n}" for n in ("Model", "DetectionModel", "Detect")] + [
    f"models.common.{n}" for n in ("Conv", "C3", "Bottleneck", "SPPF", "SPP", "Concat", "Focus")]
_TORCH_LAYERS = ["torch.nn.modules.conv.Conv2d", "torch.nn.modules.batchnorm.BatchNorm2d",
                 "torch.nn.modules.activation.SiLU", "torch.nn.modules.pooling.MaxPool2d",
                 "torch.nn.modules.upsampling.Upsample", "torch.nn.modules.container.Sequential",
                 "torch.nn.modules.container.ModuleList", "torch.nn.modules.linear.Identity"]
# Custom-trained checkpoints also store training options, with paths (pathlib._local: Python 3.13+).
_PATHS = [f"pathlib{where}.{n}" for where in ("", "._local")
          for n in ("PosixPath", "WindowsPath", "PurePosixPath", "PurePath", "PureWindowsPath", "Path")]
# What else official checkpoints name: all of it is in torch's own weights_only allow-list.
_DATA = ["collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
         "torch.HalfStorage", "torch.FloatStorage", "torch.DoubleStorage", "torch.BFloat16Storage",
         "torch.LongStorage", "__builtin__.set", "builtins.set", "_codecs.encode"]
_GLOBALS = frozenset(_YOLO_CLASSES + _TORCH_LAYERS + _PATHS + _DATA)
_FLOATS = (torch.float16, torch.float32, torch.bfloat16, torch.float64)
_load_lock = threading.Lock()  # torch's safe_globals() changes process-wide state


class _LayerCall(Exception):
    """A pickle asked to call a layer class with arguments, i.e. to build it."""


class _Stored:
    """Stands in for every layer class (YOLOv5's and torch.nn's) while unpickling: keeps the
    pickled attributes as data and runs nothing. Calling it, as a pickle can to build a layer
    from its own arguments (nn.Conv2d(100000, 100000, 15) is 4 GB), is refused."""

    __slots__ = ("attributes",)

    def __new__(cls, *args, **kwargs):
        stored = object.__new__(cls)
        stored.attributes = {}
        return stored

    def __init__(self, *args, **kwargs):
        raise _LayerCall

    def __setstate__(self, state: object) -> None:
        self.attributes = state if type(state) is dict else {}


class _Ignored:
    """Stands in for data a checkpoint carries but the app never uses (training paths)."""

    def __init__(self, *args, **kwargs):
        pass


_ALLOWED = [(_Stored, name) for name in _YOLO_CLASSES + _TORCH_LAYERS] + [(_Ignored, name) for name in _PATHS]


@dataclass(frozen=True)
class Checkpoint:
    """What a YOLOv5 checkpoint holds that is needed to rebuild it, checked."""

    architecture: dict           # the model yaml: nc, depth/width multiples, anchors, backbone, head
    names: list[str]             # class names, index = class id
    strides: list[int]           # 8, 16, 32 (and 64 for P6 models)
    state: dict[str, torch.Tensor]  # exactly the architecture's weights, as stored (float16 usually)
    batch_norm: bool = True      # False for checkpoints saved after fusing (biased convolutions)


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read and check a YOLOv5 detection checkpoint safely; ModelError with a readable message otherwise."""
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise ModelError(f"The model file {path} was not found." if not path.exists() else
                         f"{path} is a folder, not a model file." if path.is_dir() else
                         f"{path} is not a regular file, so not a model file.")
    try:
        check_archive(path, name, _GLOBALS)
    except OSError as e:
        raise ModelError(f"{name} cannot be read: {e.strerror or error_text(e)}.") from None
    try:
        with _load_lock, torch.serialization.safe_globals(_ALLOWED):  # type: ignore[arg-type]
            raw = torch.load(path, map_location="cpu", weights_only=True)
    except _LayerCall:
        raise ModelError(f"{name} was refused: it asks to build a layer from its own arguments, which a "
                         "YOLOv5 checkpoint never does. Nothing in it was run.") from None
    except pickle.UnpicklingError as e:
        blocked = _blocked_name(str(e))
        if blocked:
            raise refused(name, blocked) from None
        raise ModelError(f"{name} could not be read safely ({_unpickler_reason(e)}).") from None
    except MemoryError:
        raise ModelError(f"{name} is too large to load in the memory available.") from None
    except Exception as e:  # torch reports a damaged archive as RuntimeError, EOFError, ValueError...
        raise ModelError(f"{name} is incomplete or damaged and cannot be loaded ({error_text(e)}).") from None
    return _from_raw(raw, name)


# -- 4. the contents -------------------------------------------------------------------------------

def _from_raw(raw: object, name: str) -> Checkpoint:
    module = None
    if isinstance(raw, dict):
        ema, model = raw.get("ema"), raw.get("model")
        module = ema if isinstance(ema, _Stored) else model
    elif isinstance(raw, _Stored):
        module = raw
    architecture = module.attributes.get("yaml") if isinstance(module, _Stored) else None
    if not isinstance(module, _Stored) or not isinstance(architecture, dict) or "head" not in architecture:
        raise ModelError(f"{name} is not a YOLOv5 detection checkpoint (no YOLOv5 model inside).")
    names, stride = module.attributes.get("names"), module.attributes.get("stride")
    if names is None or stride is None:
        raise ModelError(f"{name} is not a complete YOLOv5 checkpoint (no class names or strides).")
    strides = _strides(stride, name)
    try:
        plan = plan_architecture(architecture, strides)
    except ArchitectureError as e:
        raise _unusable(name, str(e)) from None
    names = _names(names, plan.nc, name)
    state = _state_dict(module, name)
    batch_norm = any(key.endswith(".bn.running_mean") for key in state)
    detect = f"model.{len(plan.layers) - 1}."
    state = _checked_weights(state, architecture, strides, batch_norm, detect, name)
    return Checkpoint(architecture, names, strides, state, batch_norm)


def _unusable(name: str, reason: str) -> ModelError:
    return ModelError(f"{name} is not a usable YOLOv5 model: {reason}.")


def _is_plain(tensor: object) -> TypeGuard[torch.Tensor]:
    """A dense CPU tensor of a plain type: no sparse, quantized, meta or subclassed tensor."""
    return (isinstance(tensor, torch.Tensor) and type(tensor) in (torch.Tensor, torch.nn.Parameter)
            and tensor.layout == torch.strided
            and tensor.device.type == "cpu" and not tensor.is_quantized)


def _strides(stride: object, name: str) -> list[int]:
    wrong = _unusable(name, f"its strides are not increasing powers of two from {MIN_STRIDE} to {MAX_STRIDE}, "
                            "one per output level")
    if not _is_plain(stride) or stride.dim() != 1 or not 1 <= stride.numel() <= 6:
        raise wrong
    if stride.dtype not in _FLOATS and stride.dtype not in (torch.int32, torch.int64):
        raise wrong
    values = stride.double().tolist()
    if not all(v in (4, 8, 16, 32, 64, 128) for v in values) or values != sorted(set(values)):
        raise wrong  # NaN, infinities, zero, negatives and fractions all fail the first test
    return [int(v) for v in values]


_UNSHOWABLE = {"Cc", "Cs", "Zl", "Zp"}  # control characters, lone surrogates, line breaks
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _names(names: Any, nc: int, name: str) -> list[str]:
    wrong = _unusable(name, f"its class names do not match its {nc} classes")
    if isinstance(names, dict):  # v7: {0: "person", 1: "bicycle", ...}
        if len(names) != nc or any(type(k) is not int for k in names) or set(names) != set(range(nc)):
            raise wrong
        names = [names[i] for i in range(nc)]
    elif type(names) in (list, tuple):
        if len(names) != nc:
            raise wrong
        names = list(names)
    else:
        raise wrong
    for label in names:
        if type(label) is not str:
            raise _unusable(name, "its class names are not all text")
        if not label.strip() or len(label) > MAX_NAME_LENGTH:
            raise _unusable(name, f"its class names include an empty one or one longer than {MAX_NAME_LENGTH} "
                                  "characters")
        if any(c in "<>" or c in _BIDI_CONTROLS or unicodedata.category(c) in _UNSHOWABLE for c in label):
            raise _unusable(name, "its class names include markup or control characters")
    return names


def _state_dict(root: _Stored, name: str) -> dict[str, torch.Tensor]:
    """The weights of the stored module tree, by name as nn.Module.state_dict() names them;
    walked without recursion, refusing cycles, deep nesting and anything that is not a layer."""
    damaged = _unusable(name, "its network is damaged (a part of it is not a layer)")
    state: dict[str, torch.Tensor] = {}
    pending, seen = [("", root, 0)], {id(root)}
    while pending:
        prefix, module, depth = pending.pop()
        if depth > MAX_NESTING:
            raise _unusable(name, "its layers are nested deeper than any YOLOv5 model's")
        attributes = module.attributes
        skipped = attributes.get("_non_persistent_buffers_set", set())
        for kind in ("_parameters", "_buffers", "_modules"):
            entries = attributes.get(kind, {})
            if not isinstance(entries, dict):
                raise damaged
            for key, value in entries.items():
                if type(key) is not str or not re.fullmatch(r"\w{1,64}", key):
                    raise _unusable(name, "its network has layers or weights with invalid names")
                if value is None or kind == "_buffers" and isinstance(skipped, set) and key in skipped:
                    continue
                if kind != "_modules":
                    if not isinstance(value, torch.Tensor):
                        raise _unusable(name, "its weights include something that is not a tensor")
                    state[prefix + key] = value
                elif not isinstance(value, _Stored) or id(value) in seen:
                    raise damaged
                else:
                    seen.add(id(value))
                    if len(seen) > MAX_MODULES:
                        raise _unusable(name, "it has more layers than any YOLOv5 model")
                    pending.append((f"{prefix}{key}.", value, depth + 1))
    return state


def _checked_weights(state: dict[str, torch.Tensor], architecture: dict, strides: list[int], batch_norm: bool,
                     detect: str, name: str) -> dict[str, torch.Tensor]:
    """The weights the architecture needs, each checked; ModelError otherwise. The expected names
    and shapes come from building the (already checked) architecture on the meta device: no memory."""
    try:
        with torch.device("meta"):
            expected = {key: tuple(value.shape) for key, value in
                        YoloV5(architecture, strides, batch_norm=batch_norm).state_dict().items()
                        if not key.endswith("num_batches_tracked")}
    except Exception:  # plan_architecture accepted it, so this is a bug; still the file's, for the user
        raise _unusable(name, "its architecture cannot be built") from None
    # Not weights: BatchNorm's counter, and the anchor grid v5.0 files keep (derived from the anchors).
    ignored = [key for key in state if key.endswith(".num_batches_tracked") or key == f"{detect}anchor_grid"]
    missing = [key for key in expected if key not in state]
    extra = [key for key in state if key not in expected and key not in ignored]
    if missing or extra:
        example = f"it lacks {missing[0]}" if missing else f"it has {extra[0]}, which the architecture has no place for"
        raise _unusable(name, f"its weights do not match its architecture ({example})")
    weights = {key: state[key] for key in expected}
    stored, claimed = {}, 0
    for key, shape in expected.items():
        tensor = weights[key]
        if not _is_plain(tensor):
            raise _unusable(name, f"its weight {key} is not a plain tensor")
        if tensor.dtype not in _FLOATS:
            raise _unusable(name, f"its weight {key} holds {str(tensor.dtype).removeprefix('torch.')} values, "
                                  "not floating-point numbers")
        if tuple(tensor.shape) != shape:
            raise _unusable(name, f"its weight {key} has the shape {_shape(tensor.shape)}, where its architecture "
                                  f"needs {_shape(shape)}")
        storage = tensor.untyped_storage()
        if tensor.numel() * tensor.element_size() > storage.nbytes():
            raise _unusable(name, f"its weight {key} claims more values than the file holds")
        stored[storage.data_ptr()] = storage.nbytes()
        claimed += tensor.numel() * tensor.element_size()
    if claimed > sum(stored.values()):  # several weights made of the same stored values
        raise _unusable(name, "its weights claim more values than the file holds")
    for key, tensor in weights.items():
        if not bool(torch.isfinite(tensor).all()):
            raise _unusable(name, f"its weight {key} has infinite or undefined (NaN) values")
    if not bool((weights[f"{detect}anchors"] > 0).all()):
        raise _unusable(name, "its anchors are not all positive sizes")
    return weights


def _shape(shape) -> str:
    return "x".join(str(d) for d in shape) if len(shape) <= 8 else f"{len(shape)} dimensions"


def _blocked_name(message: str) -> str | None:
    # torch says e.g. "Unsupported global: GLOBAL posix.system was not an allowed global ..."
    for line in message.splitlines():
        if "GLOBAL " in line:
            return line.split("GLOBAL ", 1)[1].split()[0]
    return None


def _unpickler_reason(error: Exception) -> str:
    # torch wraps the reason in advice for developers: "Weights only load failed. ... WeightsUnpickler error: X"
    message = str(error)
    if "WeightsUnpickler error:" in message:
        message = message.split("WeightsUnpickler error:", 1)[1]
    return _plain(message)


def error_text(error: Exception) -> str:
    """An error's first line, safe to show a user (no markup, bounded), or its type's name."""
    return _plain(str(error)) or type(error).__name__


def _plain(text: str, limit: int = 160) -> str:
    """The first line of an error's text, made safe to show: no markup, bounded length."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    line = "".join(c for c in line if c not in "<>" and unicodedata.category(c) not in _UNSHOWABLE).rstrip(".")
    return line if len(line) <= limit else line[:limit] + "…"
