"""Writing YOLOv5-format checkpoints for tests: pickled under the official class names
(models.yolo.Model, models.common.Conv, ...) exactly as Ultralytics' training saves them."""

from __future__ import annotations

import copy
import pathlib
import sys
import types
import zipfile

import torch
from torch import nn

from lwface_desktop.core.yolo import model as ours

# Our class -> the official module and class name it is pickled as.
OFFICIAL = {ours.Conv: "models.common.Conv", ours.C3: "models.common.C3",
            ours.Bottleneck: "models.common.Bottleneck", ours.SPPF: "models.common.SPPF",
            ours.Concat: "models.common.Concat", ours.Detect: "models.yolo.Detect",
            ours.Focus: "models.common.Focus", ours.SPP: "models.common.SPP"}


def _official_class(qualified: str) -> type:
    """A class importable as `qualified`, made once per test session."""
    module_name, class_name = qualified.rsplit(".", 1)
    for part in ("models", module_name):
        sys.modules.setdefault(part, types.ModuleType(part))
    module = sys.modules[module_name]
    if not hasattr(module, class_name):
        setattr(module, class_name, type(class_name, (nn.Module,), {"__module__": module_name}))
    return getattr(module, class_name)


def save_checkpoint(network: ours.YoloV5, path, architecture: dict, names, strides: list[int],
                    v7: bool = False) -> None:
    """Save network as a YOLOv5 training checkpoint (float16, like the official files)."""
    saved = copy.deepcopy(network).half()
    del saved.plan  # ours, not in official files (and not a class a checkpoint may name)
    for module in saved.modules():
        if type(module) in OFFICIAL:
            module.__class__ = _official_class(OFFICIAL[type(module)])
    saved.__class__ = _official_class("models.yolo.DetectionModel" if v7 else "models.yolo.Model")
    saved.yaml, saved.names, saved.stride = architecture, names, torch.tensor(strides, dtype=torch.float32)
    torch.save({"epoch": 10, "best_fitness": None, "model": saved, "ema": None, "updates": None,
                "optimizer": None, "opt": {"save_dir": pathlib.PosixPath("runs/train/exp")},
                "date": "2026-11-25"}, path)


def architecture_of(nc: int, depth: float = 0.33, width: float = 0.25) -> dict:
    """The yolov5n/s/m... layout (P3-P5) with nc classes."""
    return {"nc": nc, "depth_multiple": depth, "width_multiple": width,
            "anchors": [[10, 13, 16, 30, 33, 23], [30, 61, 62, 45, 59, 119], [116, 90, 156, 198, 373, 326]],
            "backbone": [[-1, 1, "Conv", [64, 6, 2, 2]], [-1, 1, "Conv", [128, 3, 2]], [-1, 3, "C3", [128]],
                         [-1, 1, "Conv", [256, 3, 2]], [-1, 6, "C3", [256]], [-1, 1, "Conv", [512, 3, 2]],
                         [-1, 9, "C3", [512]], [-1, 1, "Conv", [1024, 3, 2]], [-1, 3, "C3", [1024]],
                         [-1, 1, "SPPF", [1024, 5]]],
            "head": [[-1, 1, "Conv", [512, 1, 1]], [-1, 1, "nn.Upsample", ["None", 2, "nearest"]],
                     [[-1, 6], 1, "Concat", [1]], [-1, 3, "C3", [512, False]], [-1, 1, "Conv", [256, 1, 1]],
                     [-1, 1, "nn.Upsample", ["None", 2, "nearest"]], [[-1, 4], 1, "Concat", [1]],
                     [-1, 3, "C3", [256, False]], [-1, 1, "Conv", [256, 3, 2]], [[-1, 14], 1, "Concat", [1]],
                     [-1, 3, "C3", [512, False]], [-1, 1, "Conv", [512, 3, 2]], [[-1, 10], 1, "Concat", [1]],
                     [-1, 3, "C3", [1024, False]], [[17, 20, 23], 1, "Detect", ["nc", "anchors"]]],
            "ch": 3}


def v5_architecture_of(nc: int, depth: float = 0.33, width: float = 0.25) -> dict:
    """The v5.0 layout (before v6.0): a Focus stem and the parallel SPP, C3 after it."""
    architecture = architecture_of(nc, depth, width)
    backbone = architecture["backbone"]
    backbone[0] = [-1, 1, "Focus", [64, 3]]
    backbone[4][1] = backbone[6][1] = 9
    backbone[8:] = [[-1, 1, "SPP", [1024, [5, 9, 13]]], [-1, 3, "C3", [1024, False]]]
    return architecture


def p6_architecture_of(nc: int, depth: float = 0.33, width: float = 0.25) -> dict:
    """The yolov5n6/s6... layout: a fourth output level at stride 64."""
    return {"nc": nc, "depth_multiple": depth, "width_multiple": width,
            "anchors": [[19, 27, 44, 40, 38, 94], [96, 68, 86, 152, 180, 137],
                        [140, 301, 303, 264, 238, 542], [436, 615, 739, 380, 925, 792]],
            "backbone": [[-1, 1, "Conv", [64, 6, 2, 2]], [-1, 1, "Conv", [128, 3, 2]], [-1, 3, "C3", [128]],
                         [-1, 1, "Conv", [256, 3, 2]], [-1, 6, "C3", [256]], [-1, 1, "Conv", [512, 3, 2]],
                         [-1, 9, "C3", [512]], [-1, 1, "Conv", [768, 3, 2]], [-1, 3, "C3", [768]],
                         [-1, 1, "Conv", [1024, 3, 2]], [-1, 3, "C3", [1024]], [-1, 1, "SPPF", [1024, 5]]],
            "head": [[-1, 1, "Conv", [768, 1, 1]], [-1, 1, "nn.Upsample", ["None", 2, "nearest"]],
                     [[-1, 8], 1, "Concat", [1]], [-1, 3, "C3", [768, False]], [-1, 1, "Conv", [512, 1, 1]],
                     [-1, 1, "nn.Upsample", ["None", 2, "nearest"]], [[-1, 6], 1, "Concat", [1]],
                     [-1, 3, "C3", [512, False]], [-1, 1, "Conv", [256, 1, 1]],
                     [-1, 1, "nn.Upsample", ["None", 2, "nearest"]], [[-1, 4], 1, "Concat", [1]],
                     [-1, 3, "C3", [256, False]], [-1, 1, "Conv", [256, 3, 2]], [[-1, 20], 1, "Concat", [1]],
                     [-1, 3, "C3", [512, False]], [-1, 1, "Conv", [512, 3, 2]], [[-1, 16], 1, "Concat", [1]],
                     [-1, 3, "C3", [768, False]], [-1, 1, "Conv", [768, 3, 2]], [[-1, 12], 1, "Concat", [1]],
                     [-1, 3, "C3", [1024, False]], [[23, 26, 29, 32], 1, "Detect", ["nc", "anchors"]]],
            "ch": 3}


def random_network(architecture: dict, strides: list[int], seed: int = 0) -> ours.YoloV5:
    """A network with random weights and BatchNorm statistics, so folding them is exercised."""
    torch.manual_seed(seed)
    network = ours.YoloV5(architecture, strides)
    with torch.no_grad():
        for module in network.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.1, 0.1)
    return network.eval()


def tiny_architecture(nc: int = 3) -> dict:
    """The yolov5n layout at width 1/16 (8 to 64 channels): loads and runs in milliseconds."""
    return architecture_of(nc, depth=0.33, width=0.0625)


def write_checkpoint(path, architecture, names, strides, state: dict, v7: bool = False,
                     extra: dict | None = None) -> None:
    """A checkpoint in the official format from parts, without building a network: any
    architecture, names, strides (a tensor, or anything at all) and state dict (name -> tensor),
    stored as a tree of modules under the official class names, as training saves them.
    For writing the files training never would."""
    root = _official_class("models.yolo.DetectionModel" if v7 else "models.yolo.Model")()
    for key, tensor in state.items():
        *parents, leaf = key.split(".")
        module = root
        for part in parents:
            if module._modules.get(part) is None:
                module._modules[part] = nn.Sequential()
            module = module._modules[part]
        if isinstance(tensor, torch.Tensor) and leaf in ("weight", "bias") and tensor.is_floating_point():
            module._parameters[leaf] = nn.Parameter(tensor, requires_grad=False)
        else:
            module._buffers[leaf] = tensor
    root.__dict__.update(yaml=architecture, names=names, stride=strides)
    torch.save({"epoch": -1, "best_fitness": None, "model": root, "ema": None, "updates": None,
                "optimizer": None, **(extra or {})}, path)


def rezip(source, target, edit=None, compression: int = zipfile.ZIP_STORED) -> None:
    """Copy a zip entry by entry; edit(name, data) returns the new data, or None to drop the entry."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", compression) as new:
        for entry in old.infolist():
            data = old.read(entry.filename)
            data = edit(entry.filename, data) if edit else data
            if data is not None:
                new.writestr(entry.filename, data)


def edit_pickle(source, target, old: bytes, new: bytes) -> None:
    """The same checkpoint with bytes of its pickle (data.pkl) replaced (every occurrence)."""
    def edit(name: str, data: bytes) -> bytes:
        if name.endswith("/data.pkl"):
            assert old in data, "nothing to replace"
            return data.replace(old, new)
        return data

    rezip(source, target, edit)


def zip_with_pickle(path, data: bytes, records: dict[str, bytes] | None = None) -> None:
    """A torch-style archive around a hand-written pickle (and storage records data/<key>)."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", data)
        archive.writestr("archive/byteorder", "little")
        for key, record in (records or {}).items():
            archive.writestr(f"archive/data/{key}", record)
        archive.writestr("archive/version", "3\n")
