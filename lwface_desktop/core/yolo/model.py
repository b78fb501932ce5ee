"""The YOLOv5 network in plain PyTorch, built from the architecture a checkpoint carries.

Layer and attribute names (conv, bn, cv1..cv3, m) follow the checkpoints' state-dict keys,
so their weights load by name. See ../shared/DESIGN.md for the blocks and the decode.
"""

from __future__ import annotations

import math

import torch
from torch import nn

BN_EPS = 1e-3


class Conv(nn.Module):
    """Conv2d + BatchNorm2d + SiLU; after fuse(), Conv2d with bias + SiLU."""

    def __init__(self, c1: int, c2: int, k: int = 1, s: int = 1, p: int | None = None, g: int = 1,
                 d: int = 1, act: bool = True, batch_norm: bool = True):
        super().__init__()
        padding = d * (k - 1) // 2 if p is None else p
        self.conv = nn.Conv2d(c1, c2, k, s, padding, dilation=d, groups=g, bias=not batch_norm)
        self.bn = nn.BatchNorm2d(c2, eps=BN_EPS) if batch_norm else None
        self.act = nn.SiLU() if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        return self.act(self.bn(x) if self.bn is not None else x)

    @torch.no_grad()
    def fuse(self) -> None:
        """Fold the BatchNorm into the convolution: one op less per layer, same output."""
        if self.bn is None:
            return
        bn, conv = self.bn, self.conv
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
                          conv.padding, conv.dilation, conv.groups, bias=True)
        fused.weight.copy_(conv.weight * scale.reshape(-1, 1, 1, 1))
        conv_bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
        fused.bias.copy_((conv_bias - bn.running_mean) * scale + bn.bias)
        self.conv, self.bn = fused, None


class Bottleneck(nn.Module):
    def __init__(self, c1: int, c2: int, shortcut: bool = True, g: int = 1, e: float = 0.5, **conv):
        super().__init__()
        hidden = int(c2 * e)
        self.cv1 = Conv(c1, hidden, 1, 1, **conv)
        self.cv2 = Conv(hidden, c2, 3, 1, g=g, **conv)
        self.add = shortcut and c1 == c2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C3(nn.Module):
    def __init__(self, c1: int, c2: int, n: int = 1, shortcut: bool = True, g: int = 1, e: float = 0.5, **conv):
        super().__init__()
        hidden = int(c2 * e)
        self.cv1 = Conv(c1, hidden, 1, 1, **conv)
        self.cv2 = Conv(c1, hidden, 1, 1, **conv)
        self.cv3 = Conv(2 * hidden, c2, 1, **conv)
        self.m = nn.Sequential(*(Bottleneck(hidden, hidden, shortcut, g, e=1.0, **conv) for _ in range(n)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cv3(torch.cat((self.m(self.cv1(x)), self.cv2(x)), 1))


class SPPF(nn.Module):
    def __init__(self, c1: int, c2: int, k: int = 5, **conv):
        super().__init__()
        hidden = c1 // 2
        self.cv1 = Conv(c1, hidden, 1, 1, **conv)
        self.cv2 = Conv(hidden * 4, c2, 1, 1, **conv)
        self.m = nn.MaxPool2d(k, 1, k // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.cv1(x)
        y1 = self.m(x)
        y2 = self.m(y1)
        return self.cv2(torch.cat((x, y1, y2, self.m(y2)), 1))


class SPP(nn.Module):
    """The older, parallel form of SPPF (v5.0 and before)."""

    def __init__(self, c1: int, c2: int, k: tuple[int, ...] = (5, 9, 13), **conv):
        super().__init__()
        hidden = c1 // 2
        self.cv1 = Conv(c1, hidden, 1, 1, **conv)
        self.cv2 = Conv(hidden * (len(k) + 1), c2, 1, 1, **conv)
        self.m = nn.ModuleList(nn.MaxPool2d(size, 1, size // 2) for size in k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.cv1(x)
        return self.cv2(torch.cat([x] + [pool(x) for pool in self.m], 1))


class Focus(nn.Module):
    """Space-to-depth then Conv (v5.0 and before)."""

    def __init__(self, c1: int, c2: int, k: int = 1, s: int = 1, p: int | None = None, g: int = 1, **conv):
        super().__init__()
        self.conv = Conv(c1 * 4, c2, k, s, p, g, **conv)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.cat((x[..., ::2, ::2], x[..., 1::2, ::2], x[..., ::2, 1::2], x[..., 1::2, 1::2]), 1))


class Concat(nn.Module):
    def __init__(self, dimension: int = 1):
        super().__init__()
        self.d = dimension

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(xs, self.d)


class Detect(nn.Module):
    """One 1x1 conv per level; decodes to (batch, boxes, 5 + classes): cx, cy, w, h, obj, classes."""

    def __init__(self, nc: int, anchors: list[list[float]], ch: list[int], strides: list[int]):
        super().__init__()
        self.no = nc + 5
        self.nl = len(anchors)
        self.na = len(anchors[0]) // 2
        self.strides = strides
        # Anchors in units of each level's stride, as checkpoints store them.
        anchor_px = torch.tensor(anchors, dtype=torch.float32).view(self.nl, -1, 2)
        self.register_buffer("anchors", anchor_px / torch.tensor(strides, dtype=torch.float32).view(-1, 1, 1))
        self.m = nn.ModuleList(nn.Conv2d(c, self.no * self.na, 1) for c in ch)
        self._grids: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        out = []
        for i, x in enumerate(xs):
            x = self.m[i](x)
            batch, _, ny, nx = x.shape
            # (b, na*no, ny, nx) -> (b, na, ny, nx, no), then sigmoid and decode.
            # Decoded in float32 even under bf16 autocast: bf16 would round a box edge near
            # 600 px to the nearest 4 px.
            p = x.view(batch, self.na, self.no, ny, nx).permute(0, 1, 3, 4, 2).float().sigmoid()
            grid, anchor_grid = self._grid(i, nx, ny)
            xy = (p[..., :2] * 2 - 0.5 + grid) * self.strides[i]
            wh = (p[..., 2:4] * 2) ** 2 * anchor_grid
            out.append(torch.cat((xy, wh, p[..., 4:]), -1).view(batch, -1, self.no))
        return torch.cat(out, 1)

    def _grid(self, level: int, nx: int, ny: int) -> tuple[torch.Tensor, torch.Tensor]:
        # Built once per input size, then reused: the camera sends one size.
        key = (level, nx, ny)
        if key not in self._grids:
            ys, xs = torch.meshgrid(torch.arange(ny, dtype=torch.float32),
                                    torch.arange(nx, dtype=torch.float32), indexing="ij")
            grid = torch.stack((xs, ys), -1).view(1, 1, ny, nx, 2)
            anchor_grid = (self.anchors[level] * self.strides[level]).view(1, self.na, 1, 1, 2)
            self._grids[key] = (grid, anchor_grid)
        return self._grids[key]


_BLOCKS = {"Conv": Conv, "C3": C3, "SPPF": SPPF, "SPP": SPP, "Focus": Focus, "Bottleneck": Bottleneck}


class UnsupportedArchitecture(ValueError):
    pass


def channels(c: float, width_multiple: float) -> int:
    """Channel count scaled by the width multiple, rounded up to a multiple of 8."""
    return math.ceil(c * width_multiple / 8) * 8


class YoloV5(nn.Module):
    """The network described by a checkpoint's architecture dict. Input: (b, 3, H, W) RGB in
    [0, 1], H and W multiples of the largest stride. Output: (b, N, 5 + nc), boxes in input pixels."""

    def __init__(self, architecture: dict, strides: list[int], batch_norm: bool = True):
        super().__init__()
        nc = int(architecture["nc"])
        depth, width = architecture["depth_multiple"], architecture["width_multiple"]
        anchors = architecture["anchors"]
        conv_kw = {"batch_norm": batch_norm}
        resolve = {"None": None, "nc": nc, "anchors": anchors}
        layers, out_channels = [], []
        self.sources: list[list[int]] = []
        self._single: list[bool] = []
        for i, (source, repeats, kind, args) in enumerate(architecture["backbone"] + architecture["head"]):
            args = [resolve.get(a, a) if isinstance(a, str) else a for a in args]
            repeats = max(round(repeats * depth), 1) if repeats > 1 else repeats
            c_in = 3 if i == 0 else out_channels[source] if isinstance(source, int) else None
            if kind in _BLOCKS:
                c_out = channels(args[0], width)
                block_args = [c_in, c_out, *args[1:]]
                if kind == "C3":  # C3 repeats its bottlenecks inside itself
                    block_args.insert(2, repeats)
                    repeats = 1
                make = lambda a=block_args, b=_BLOCKS[kind]: b(*a, **conv_kw)  # noqa: E731
            elif kind == "Concat":
                c_out = sum(out_channels[s] for s in source)
                make = lambda a=args: Concat(*a)  # noqa: E731
            elif kind == "nn.Upsample":
                c_out = c_in
                make = lambda a=args: nn.Upsample(*a)  # noqa: E731
            elif kind == "Detect":
                c_out = None
                level_channels = [out_channels[s] for s in source]
                make = lambda a=args, ch=level_channels: Detect(a[0], a[1], ch, strides)  # noqa: E731
            else:
                raise UnsupportedArchitecture(kind)
            layer = make() if repeats == 1 else nn.Sequential(*(make() for _ in range(repeats)))
            layers.append(layer)
            # Absolute layer indices; i - 1 is the previous layer (-1 the image, for layer 0).
            self.sources.append([s if s >= 0 else i + s for s in (source if isinstance(source, list) else [source])])
            self._single.append(not isinstance(source, list))
            out_channels.append(c_out)
        self.model = nn.Sequential(*layers)
        # Outputs that a later layer reads again, not just the next one; the rest are not kept.
        self._kept = {s for i, src in enumerate(self.sources) for s in src if s != i - 1}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        saved: dict[int, torch.Tensor] = {}
        for i, (layer, sources, single) in enumerate(zip(self.model, self.sources, self._single)):
            inputs = [x if s == i - 1 else saved[s] for s in sources]
            x = layer(inputs[0] if single else inputs)
            if i in self._kept:
                saved[i] = x
        return x

    def fuse(self) -> "YoloV5":
        for module in self.modules():
            if isinstance(module, Conv):
                module.fuse()
        return self
