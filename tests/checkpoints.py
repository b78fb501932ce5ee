"""Writing YOLOv5-format checkpoints for tests: pickled under the official class names
(models.yolo.Model, models.common.Conv, ...) exactly as Ultralytics' training saves them."""

from __future__ import annotations

import copy
import pathlib
import sys
import types

import torch
from torch import nn

from lwface_desktop.core.yolo import model as ours

# Our class -> the official module and class name it is pickled as.
OFFICIAL = {ours.Conv: "models.common.Conv", ours.C3: "models.common.C3",
            ours.Bottleneck: "models.common.Bottleneck", ours.SPPF: "models.common.SPPF",
            ours.Concat: "models.common.Concat", ours.Detect: "models.yolo.Detect"}


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
