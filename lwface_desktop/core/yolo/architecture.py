"""A checkpoint's YOLOv5 architecture (its yaml, as a dict), checked and planned from the
numbers alone before anything is built: plan_architecture() bounds every value, works out each
layer's channels and stride, and what the network would cost in weights and memory.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any


class ArchitectureError(ValueError):
    """An architecture that will not be built. str(error) says why, worded to follow
    "<file> is not a usable YOLOv5 model: ", e.g. "its width multiple is 5, ..."."""


class UnsupportedArchitecture(ArchitectureError):
    """A layer type this module does not have."""


# Bounds on the architecture a checkpoint asks for, checked before anything is built. Every
# official YOLOv5 (n to x, P5 and P6, v5.0 to v7.0) is well inside them; they exist so that a
# file of a few kilobytes cannot make the app build a network of tens of gigabytes.
MAX_MULTIPLE = 2.0              # depth and width multiples; yolov5x uses 1.33 and 1.25
MAX_CLASSES = 4000              # LVIS, the largest common detection label set, has 1203
MAX_LAYERS = 100                # rows of backbone + head; P6 models have 34
MAX_REPEATS = 32                # a row's repeats before the depth multiple; official rows use 1 to 9
MAX_CHANNELS = 4096             # a row's channels before the width multiple; official rows use 64 to 1024
MAX_LAYER_CHANNELS = 16384      # any layer's output, Concat included; yolov5x6's widest is 1920
MAX_KERNEL = 15                 # official kernels are 1, 3, 5 and 6; SPP pools 5, 9 and 13
MAX_LAYER_STRIDE = 2            # a convolution's own stride; official ones use 1 and 2
MAX_ANCHORS_PER_LEVEL = 10      # official models have 3
MAX_ANCHOR_PIXELS = 8192.0      # the largest official anchor is 925 px
MIN_STRIDE, MAX_STRIDE = 4, 128  # output levels: P2 (4) to P7 (128); official P5/P6 use 8 to 64
MAX_CONVOLUTIONS = 1000         # yolov5x6 has 163
MAX_WEIGHTS = 200_000_000       # parameters and BatchNorm statistics; yolov5x6 has 141 M (565 MB)
# Values per input pixel in any one layer's output (channels / stride²): bounds the memory of
# inference whatever the image size. yolov5x peaks at 20; at 640 px the bound is 420 MB.
MAX_VALUES_PER_PIXEL = 256
# The same summed over all layers' outputs (all of them kept, at worst): yolov5x sums to 100.
MAX_TOTAL_VALUES_PER_PIXEL = 1024

BLOCK_KINDS = ("Conv", "C3", "SPPF", "SPP", "Focus", "Bottleneck")  # model.py builds these
_KINDS = (*BLOCK_KINDS, "Concat", "nn.Upsample", "Detect")
_UPSAMPLE_MODES = ("nearest", "bilinear")


def channels(c: float, width_multiple: float) -> int:
    """Channel count scaled by the width multiple, rounded up to a multiple of 8."""
    return math.ceil(c * width_multiple / 8) * 8


@dataclass(frozen=True)
class LayerPlan:
    """One row of the architecture, checked: what to build and with which numbers."""

    kind: str
    sources: tuple[int, ...]  # absolute layer indices; -1 is the image (layer 0 only)
    single: bool              # the layer takes one tensor, not a list
    repeats: int              # copies in sequence (a C3 repeats inside itself: 1 here)
    args: tuple               # the block's arguments after the input channels
    c_out: int                # output channels (0 for Detect)
    stride: int               # how many times smaller than the image its output is


@dataclass(frozen=True)
class Plan:
    """A checked architecture: layers, classes, output strides, and what it will cost."""

    layers: tuple[LayerPlan, ...]
    nc: int
    anchors: tuple[tuple[float, ...], ...]
    strides: tuple[int, ...]  # of Detect's inputs, in order
    weights: int              # parameters + BatchNorm statistics of the unfused network
    convolutions: int

    @property
    def anchors_per_level(self) -> int:
        return len(self.anchors[0]) // 2

    def outputs(self, height: int, width: int) -> int:
        """Boxes the network outputs for an input of height x width (multiples of the largest stride)."""
        return self.anchors_per_level * sum((height // s) * (width // s) for s in self.strides)


def plan_architecture(architecture: object, strides: list[int] | None = None) -> Plan:
    """Check a checkpoint's architecture (the YOLOv5 yaml as a dict) against the bounds above and
    against the strides the checkpoint states; ArchitectureError saying what is wrong otherwise.
    Nothing is allocated: channels, strides and sizes are worked out from the numbers alone."""
    if not isinstance(architecture, dict):
        raise ArchitectureError("its architecture is not a table of settings")
    nc = architecture.get("nc")
    if type(nc) is not int or not 1 <= nc <= MAX_CLASSES:
        raise ArchitectureError(f"its number of classes is {_show(nc)}, not a whole number from 1 to {MAX_CLASSES}")
    depth = _multiple(architecture.get("depth_multiple"), "depth")
    width = _multiple(architecture.get("width_multiple"), "width")
    anchors = _anchors(architecture.get("anchors"))
    backbone, head = architecture.get("backbone"), architecture.get("head")
    if type(backbone) is not list or type(head) is not list:
        raise ArchitectureError("its architecture has no list of layers")
    rows = backbone + head
    if not 2 <= len(rows) <= MAX_LAYERS:
        raise ArchitectureError(f"it has {len(rows)} layers; lwface-desktop accepts 2 to {MAX_LAYERS} "
                                "(YOLOv5 models have 25 to 34)")
    layers: list[LayerPlan] = []
    cost = _Cost()
    for i, row in enumerate(rows):
        layer = _plan_layer(i, row, layers, nc, depth, width, anchors, cost, last=i == len(rows) - 1)
        where = f"layer {i} ({layer.kind})"
        if layer.c_out > MAX_LAYER_CHANNELS:
            raise ArchitectureError(f"{where} has {layer.c_out} channels, more than the {MAX_LAYER_CHANNELS} "
                                    "lwface-desktop accepts")
        if layer.stride > MAX_STRIDE:
            raise ArchitectureError(f"{where} shrinks the image {layer.stride} times, more than the "
                                    f"{MAX_STRIDE} lwface-desktop accepts")
        cost.activation(layer.c_out, layer.stride, where)
        cost.values_per_pixel += layer.c_out / layer.stride ** 2
        if cost.values_per_pixel > MAX_TOTAL_VALUES_PER_PIXEL:
            raise ArchitectureError("its layers' outputs would take more memory than lwface-desktop accepts "
                                    f"({MAX_TOTAL_VALUES_PER_PIXEL} values for every pixel of the image)")
        if cost.weights > MAX_WEIGHTS:
            raise ArchitectureError(f"its architecture would have more than {MAX_WEIGHTS // 1_000_000} million "
                                    "weights (the largest official YOLOv5 has 141 million)")
        if cost.convolutions > MAX_CONVOLUTIONS:
            raise ArchitectureError(f"its architecture would have more than {MAX_CONVOLUTIONS} convolutions "
                                    "(the largest official YOLOv5 has 163)")
        layers.append(layer)
    detect = layers[-1]
    if detect.kind != "Detect":
        raise ArchitectureError("its last layer is not a Detect layer")
    detect_strides = tuple(layers[s].stride for s in detect.sources)
    if any(s not in _POWERS_OF_TWO for s in detect_strides) or list(detect_strides) != sorted(set(detect_strides)):
        raise ArchitectureError("its output levels are not at increasing powers of two "
                                f"from {MIN_STRIDE} to {MAX_STRIDE} (they are at {_show_list(detect_strides)})")
    if max(layer.stride for layer in layers[:-1]) > detect_strides[-1]:
        raise ArchitectureError("a layer shrinks the image more than its coarsest output level")
    if strides is not None and list(strides) != list(detect_strides):
        raise ArchitectureError(f"its strides ({_show_list(strides)}) do not match its architecture, whose "
                                f"outputs are at strides {_show_list(detect_strides)}")
    return Plan(tuple(layers), nc, detect.args[1], detect_strides, cost.weights, cost.convolutions)


_POWERS_OF_TWO = tuple(2 ** e for e in range(2, 8))  # MIN_STRIDE .. MAX_STRIDE


class _Cost:
    """Weights, convolutions and output sizes of the layers planned so far."""

    def __init__(self):
        self.weights = 0
        self.convolutions = 0
        self.values_per_pixel = 0.0

    def conv(self, c1: int, c2: int, k: int, times: int = 1) -> None:
        self.weights += times * (c1 * c2 * k * k + 4 * c2)  # weight, BatchNorm weight/bias/mean/var
        self.convolutions += times

    def activation(self, values: int, stride: int, where: str) -> None:
        if values > MAX_VALUES_PER_PIXEL * stride * stride:
            raise ArchitectureError(f"{where} would need {values} values for every {stride}x{stride} pixels "
                                    "of the image, more than lwface-desktop accepts")


def _plan_layer(i: int, row: object, before: list[LayerPlan], nc: int, depth: float, width: float,
                anchors: tuple, cost: _Cost, last: bool) -> LayerPlan:
    where = f"layer {i}"
    if type(row) is not list or len(row) != 4:
        raise ArchitectureError(f"{where} is not a [from, repeats, module, arguments] row")
    source, repeats, kind, args = row
    if type(kind) is not str or kind not in _KINDS:
        shown = f" ({kind})" if type(kind) is str and re.fullmatch(r"[A-Za-z_][\w.]{0,39}", kind) else ""
        raise UnsupportedArchitecture(f"{where} is of a type{shown} that lwface-desktop does not support; "
                                      "only YOLOv5 detection models are")
    where = f"layer {i} ({kind})"
    if type(args) is not list or len(args) > 4:
        raise ArchitectureError(f"{where} has no valid list of arguments")
    if type(repeats) is not int or not 1 <= repeats <= MAX_REPEATS:
        raise ArchitectureError(f"{where} repeats {_show(repeats)} times, not a whole number from 1 to {MAX_REPEATS}")
    n = max(round(repeats * depth), 1) if repeats > 1 else repeats
    args = [{"None": None, "nc": nc, "anchors": anchors}.get(a, a) if type(a) is str else a for a in args]
    multi = kind in ("Concat", "Detect")
    if i == 0 and (multi or kind == "nn.Upsample"):
        raise ArchitectureError(f"{where} cannot be the first layer")
    if multi != (type(source) is list):
        raise ArchitectureError(f"{where} takes {'a list of' if multi else 'one'} earlier layer"
                                f"{'s' if multi else ''} as input")
    sources = tuple(_source(s, i, where) for s in (source if multi else [source]))
    if not 1 <= len(sources) <= 8:
        raise ArchitectureError(f"{where} has {len(sources)} inputs")
    c_in = 3 if i == 0 else before[sources[0]].c_out
    stride_in = 1 if i == 0 else before[sources[0]].stride
    if kind == "Detect" and not last or last and kind != "Detect":
        raise ArchitectureError("its last layer, and only that one, must be a Detect layer")
    if kind in ("Concat", "nn.Upsample", "Detect") and n != 1:
        raise ArchitectureError(f"{where} is repeated, which YOLOv5 never does")

    if kind in ("Conv", "Focus"):
        c_out = _channels(args, width, where)
        k = _int(args[1] if len(args) > 1 else 1, 1, MAX_KERNEL, "kernel size", where)
        s = _int(args[2] if len(args) > 2 else 1, 1, MAX_LAYER_STRIDE, "stride", where)
        p = k // 2 if len(args) < 4 or args[3] is None else _int(args[3], 0, MAX_KERNEL, "padding", where)
        # The output is exactly input / s for every input size that is a multiple of s.
        if not k - s <= 2 * p <= k - 1:
            raise ArchitectureError(f"{where} pads its {k}x{k} convolution by {p}, which does not divide "
                                    f"the image size by exactly {s}")
        conv_in = 4 * c_in if kind == "Focus" else c_in
        if kind == "Focus":
            cost.activation(conv_in, 2 * stride_in, where)
        _same_channels_if_repeated(n, c_in, c_out, where)
        cost.conv(conv_in, c_out, k, n)
        return LayerPlan(kind, sources, True, n, (c_out, k, s, p), c_out,
                         stride_in * (s * (2 if kind == "Focus" else 1)) ** n)
    if kind in ("C3", "Bottleneck"):
        c_out = _channels(args, width, where, most=2)
        shortcut = args[1] if len(args) > 1 else True
        if type(shortcut) is not bool:
            raise ArchitectureError(f"{where} has a shortcut setting that is not True or False")
        hidden = int(c_out * 0.5)
        if kind == "C3":
            cost.conv(c_in, hidden, 1, 2)
            cost.conv(2 * hidden, c_out, 1)
            cost.conv(hidden, hidden, 1, n)
            cost.conv(hidden, hidden, 3, n)
            return LayerPlan(kind, sources, True, 1, (c_out, n, shortcut), c_out, stride_in)
        _same_channels_if_repeated(n, c_in, c_out, where)
        cost.conv(c_in, hidden, 1, n)
        cost.conv(hidden, c_out, 3, n)
        return LayerPlan(kind, sources, True, n, (c_out, shortcut), c_out, stride_in)
    if kind in ("SPPF", "SPP"):
        c_out = _channels(args, width, where, most=2)
        default = 5 if kind == "SPPF" else [5, 9, 13]
        pools = args[1] if len(args) > 1 else default
        if kind == "SPPF":
            pools = [pools]
        if type(pools) is not list or not 1 <= len(pools) <= 6:
            raise ArchitectureError(f"{where} has no valid list of pooling sizes")
        pools = [_int(k, 1, MAX_KERNEL, "pooling size", where) for k in pools]
        if any(k % 2 == 0 for k in pools):
            raise ArchitectureError(f"{where} pools over an even size, which changes the image size")
        hidden = c_in // 2
        concat = hidden * (4 if kind == "SPPF" else len(pools) + 1)
        cost.activation(concat, stride_in, where)
        _same_channels_if_repeated(n, c_in, c_out, where)
        cost.conv(c_in, hidden, 1, n)
        cost.conv(concat, c_out, 1, n)
        return LayerPlan(kind, sources, True, n, (c_out, pools[0] if kind == "SPPF" else tuple(pools)),
                         c_out, stride_in)
    if kind == "Concat":
        if len(args) > 1 or args and (type(args[0]) is not int or args[0] != 1):
            raise ArchitectureError(f"{where} does not join its inputs along the channels")
        if len({before[s].stride for s in sources}) != 1:
            raise ArchitectureError(f"{where} joins outputs of different sizes")
        return LayerPlan(kind, sources, False, 1, (1,), sum(before[s].c_out for s in sources), stride_in)
    if kind == "nn.Upsample":
        if not 2 <= len(args) <= 3 or args[0] is not None:
            raise ArchitectureError(f"{where} does not scale by a factor")
        scale = _int(args[1], 1, 4, "scale factor", where)
        mode = args[2] if len(args) > 2 else "nearest"
        if type(mode) is not str or mode not in _UPSAMPLE_MODES:
            raise ArchitectureError(f"{where} scales in a way YOLOv5 does not ({', '.join(_UPSAMPLE_MODES)} only)")
        if stride_in % scale:
            raise ArchitectureError(f"{where} enlarges its input beyond the size of the image")
        return LayerPlan(kind, sources, True, 1, (None, scale, mode), c_in, stride_in // scale)
    # Detect
    if len(args) != 2 or type(args[0]) is not int or args[0] != nc:
        raise ArchitectureError(f"{where} does not take the model's {nc} classes and its anchors")
    level_anchors = args[1] if args[1] is anchors else _anchors(args[1])
    if len(level_anchors) != len(sources):
        raise ArchitectureError(f"{where} has {len(sources)} inputs but anchors for {len(level_anchors)}")
    na, outputs = len(level_anchors[0]) // 2, nc + 5
    for s in sources:
        cost.conv(before[s].c_out, na * outputs, 1)
        cost.weights -= 3 * na * outputs  # a bias, no BatchNorm
        cost.activation(na * outputs, before[s].stride, where)
    cost.weights += len(sources) * na * 2  # the anchors
    return LayerPlan(kind, sources, False, 1, (nc, level_anchors), 0, stride_in)


def _source(s: object, i: int, where: str) -> int:
    # (Types are checked before any comparison: a tensor compared with a number is no bool.)
    absolute = None if type(s) is not int else s if s >= 0 else i + s
    if absolute is None or not (absolute == -1 if i == 0 else 0 <= absolute < i):
        raise ArchitectureError(f"{where} takes its input from {_show(s)}, which is not an earlier layer")
    return absolute


def _channels(args: list, width: float, where: str, most: int = 4) -> int:
    if not 1 <= len(args) <= most:
        raise ArchitectureError(f"{where} takes 1 to {most} arguments, not {len(args)}")
    return channels(_int(args[0], 1, MAX_CHANNELS, "channel count", where), width)


def _same_channels_if_repeated(n: int, c_in: int, c_out: int, where: str) -> None:
    if n > 1 and c_in != c_out:
        raise ArchitectureError(f"{where} is repeated but its input and output channels differ")


def _int(value: object, low: int, high: int, what: str, where: str) -> int:
    if type(value) is not int or not low <= value <= high:
        raise ArchitectureError(f"{where} has a {what} of {_show(value)}, not a whole number from {low} to {high}")
    return value


def _multiple(value: Any, what: str) -> float:
    if type(value) not in (int, float) or not 0 < value <= MAX_MULTIPLE:  # False for NaN
        raise ArchitectureError(f"its {what} multiple is {_show(value)}, not a number above 0 and at most "
                                f"{MAX_MULTIPLE:g} (YOLOv5 models use 0.33 to 1.33)")
    return float(value)


def _anchors(value: Any) -> tuple[tuple[float, ...], ...]:
    problem = "its anchors are not lists of box sizes"
    if type(value) is not list or not 1 <= len(value) <= len(_POWERS_OF_TWO):
        raise ArchitectureError(problem)
    if any(type(level) is not list for level in value):
        raise ArchitectureError(problem)
    sizes = {len(level) for level in value}
    if len(sizes) != 1 or sizes.pop() not in range(2, 2 * MAX_ANCHORS_PER_LEVEL + 1, 2):
        raise ArchitectureError(f"its anchors are not 1 to {MAX_ANCHORS_PER_LEVEL} width-height pairs per level")
    for level in value:
        for a in level:
            if type(a) not in (int, float) or not 0 < a <= MAX_ANCHOR_PIXELS:
                raise ArchitectureError(f"its anchors include {_show(a)}, not a size from 0 to "
                                        f"{MAX_ANCHOR_PIXELS:g} pixels")
    return tuple(tuple(float(a) for a in level) for level in value)


def _show(value: object) -> str:
    """A value from a file, for a message: small numbers as they are, anything else by kind
    (a file's text is never repeated: it could be huge, or markup)."""
    if value is None:
        return "nothing"
    if type(value) is bool:
        return str(value)
    if type(value) is int:
        return str(value) if value.bit_length() <= 40 else "a huge number"
    if type(value) is float:
        return f"{value:g}"
    if type(value) is str:
        return "text"
    if type(value) in (list, tuple):
        return "a list"
    return "an object"


def _show_list(values) -> str:
    return ", ".join(_show(v) for v in list(values)[:8])
