"""The YOLOv5 network in plain PyTorch, built from the architecture a checkpoint carries.

Layer and attribute names (conv, bn, cv1..cv3, m) follow the checkpoints' state-dict keys,
so their weights load by name. See ../shared/DESIGN.md for the blocks and the decode.
"""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from lwface_desktop.core.yolo.architecture import LayerPlan, plan_architecture

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
        mean, var = bn.running_mean, bn.running_var
        assert mean is not None and var is not None  # BatchNorm2d tracks them by default
        scale = bn.weight / torch.sqrt(var + bn.eps)
        fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size,  # type: ignore[arg-type]
                          conv.stride, conv.padding, conv.dilation, conv.groups, bias=True)  # type: ignore[arg-type]
        fused.weight.copy_(conv.weight * scale.reshape(-1, 1, 1, 1))
        conv_bias = conv.bias if conv.bias is not None else torch.zeros_like(mean)
        fused.bias = nn.Parameter((conv_bias - mean) * scale + bn.bias)
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

    anchors: torch.Tensor  # a buffer: (levels, anchors per level, 2), in units of each level's stride

    def __init__(self, nc: int, anchors: list[list[float]], ch: list[int], strides: list[int]):
        super().__init__()
        self.no = nc + 5
        self.nl = len(anchors)
        self.na = len(anchors[0]) // 2
        self.strides = strides
        # Anchors in units of each level's stride, as checkpoints store them.
        # (Divided here, not as tensors: strides are powers of two, so exactly; and building on the
        # meta device, as checkpoint.py does to learn the shapes, stays free of tensor maths.)
        scaled = [[a / stride for a in level] for level, stride in zip(anchors, strides, strict=True)]
        self.register_buffer("anchors", torch.tensor(scaled, dtype=torch.float32).view(self.nl, -1, 2))
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


_BLOCKS = {  # one class per architecture.BLOCK_KINDS
    "Conv": Conv, "C3": C3, "SPPF": SPPF, "SPP": SPP, "Focus": Focus, "Bottleneck": Bottleneck}


def _build(layer: LayerPlan, c_in: list[int], strides: list[int], conv: dict) -> nn.Module:
    """One copy of a planned layer."""
    kind, args = layer.kind, layer.args
    if kind in _BLOCKS:  # Conv/Focus (c_out, k, s, p), C3 (c_out, n, shortcut),
        return _BLOCKS[kind](c_in[0], *args, **conv)  # Bottleneck (c_out, shortcut), SPP(F) (c_out, pools)
    if kind == "Concat":
        return Concat(*args)
    if kind == "nn.Upsample":
        return nn.Upsample(*args)
    nc, anchors = args
    return Detect(nc, [list(level) for level in anchors], c_in, strides)


class YoloV5(nn.Module):
    """The network described by a checkpoint's architecture dict. Input: (b, 3, H, W) RGB in
    [0, 1], H and W multiples of the largest stride. Output: (b, N, 5 + nc), boxes in input pixels.
    The architecture is checked first (plan_architecture): ArchitectureError, nothing built."""

    def __init__(self, architecture: dict, strides: list[int], batch_norm: bool = True):
        super().__init__()
        self.plan = plan_architecture(architecture, strides)
        conv = {"batch_norm": batch_norm}
        layers = []
        for layer in self.plan.layers:
            make = partial(_build, layer, [self.plan.layers[s].c_out if s >= 0 else 3 for s in layer.sources],
                           list(self.plan.strides), conv)
            layers.append(make() if layer.repeats == 1 else nn.Sequential(*(make() for _ in range(layer.repeats))))
        self.model = nn.Sequential(*layers)
        # Absolute layer indices; i - 1 is the previous layer (-1 the image, for layer 0).
        self.sources: list[list[int]] = [list(layer.sources) for layer in self.plan.layers]
        self._single: list[bool] = [layer.single for layer in self.plan.layers]
        # Outputs that a later layer reads again, not just the next one; the rest are not kept.
        self._kept = {s for i, src in enumerate(self.sources) for s in src if s != i - 1}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        saved: dict[int, torch.Tensor] = {}
        for i, (layer, sources, single) in enumerate(zip(self.model, self.sources, self._single, strict=True)):
            inputs = [x if s == i - 1 else saved[s] for s in sources]
            x = layer(inputs[0] if single else inputs)
            if i in self._kept:
                saved[i] = x
        return x

    def fuse(self) -> YoloV5:
        for module in self.modules():
            if isinstance(module, Conv):
                module.fuse()
        return self
