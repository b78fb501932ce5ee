"""The YOLOv5 network rebuilt for CPU inference: what the fast CPU runtimes do, inside PyTorch.

Measured on one thread (README, "YOLOv5: how fast"): eager PyTorch spends its time on three
things besides the convolutions' arithmetic, and this module removes each:
- a separate SiLU pass over every layer's output: here Conv + bias + SiLU is one oneDNN kernel
  (torch.ops.mkldnn._convolution_pointwise), with the weights reordered into oneDNN's blocked
  layout once, not on every call;
- memory-layout conversions: activations stay channels-last (NHWC) from the first layer to the
  head, and in bf16 the whole network is bf16 (no per-layer casts, as autocast makes);
- the head's sigmoid over a permuted (strided) tensor: here it runs on the contiguous NHWC
  output, then the boxes are decoded in place.
For fp32, 1x1 convolutions are one GEMM (addmm, ~15 us per call) on the NHWC memory viewed as
rows, then an in-place SiLU: a oneDNN call costs ~70 us on top of its arithmetic in this torch
build, more than the SiLU pass it saves on these small layers.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lwface_desktop.core.yolo.model import Conv, Detect, YoloV5

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
# Input shapes whose packed weights are kept per layer: the camera sends one shape, photos
# one per aspect ratio; beyond this the cache starts again (a repack costs ~1 ms a layer).
# Fewer for a big model: all the packed copies of a network stay within PACKED_BYTES.
MAX_PACKED_SHAPES = 8
PACKED_BYTES = 256 << 20


def available() -> bool:
    """Whether this torch has the fused oneDNN convolution (x86 builds with oneDNN do)."""
    return torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_convolution_pointwise")


class FusedConv(nn.Module):
    """conv2d + bias (+ SiLU) in one call, on channels-last input of the network's dtype."""

    def __init__(self, conv: nn.Conv2d, silu: bool, dtype: torch.dtype):
        super().__init__()
        assert conv.bias is not None  # BatchNorm is folded first (YoloV5.fuse)
        self.stride, self.padding = list(conv.stride), list(conv.padding)  # type: ignore[arg-type]
        self.dilation, self.groups = list(conv.dilation), conv.groups
        self.silu = silu
        self.weight = conv.weight.detach().to(dtype)
        self.bias = conv.bias.detach().to(dtype)
        self.one_by_one_gemm = (conv.kernel_size == (1, 1) and self.stride == [1, 1] and self.groups == 1
                                and dtype == torch.float32)  # in bf16 oneDNN's fused call measured faster
        if self.one_by_one_gemm:  # (c_in, c_out): NHWC rows times this are the NHWC output
            self.weight = self.weight.view(self.weight.shape[0], -1).t()
        self._packed: dict[tuple[int, ...], torch.Tensor] = {}
        self.max_shapes = MAX_PACKED_SHAPES  # fuse_for_cpu lowers it for a big model

    def _packed_weight(self, shape: tuple[int, ...]) -> torch.Tensor:
        """The weight in the blocked layout oneDNN picks for this input shape, made once per
        shape (packed without the shape, a third of the layers were reordered on every call)."""
        packed = self._packed.get(shape)
        if packed is None:
            if len(self._packed) >= self.max_shapes:
                self._packed.clear()
            packed = torch._C._nn.mkldnn_reorder_conv2d_weight(
                self.weight.to_mkldnn(), self.padding, self.stride, self.dilation, self.groups,
                list(shape))  # type: ignore[call-arg]  # the stub lacks input_size
            self._packed[shape] = packed
        return packed

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.one_by_one_gemm:
            batch, channels, height, width = x.shape
            rows = x.permute(0, 2, 3, 1).reshape(-1, channels)  # a view of channels-last memory
            y = torch.addmm(self.bias, rows, self.weight)
            if self.silu:
                F.silu(y, inplace=True)
            return y.view(batch, height, width, -1).permute(0, 3, 1, 2)
        return torch.ops.mkldnn._convolution_pointwise(
            x, self._packed_weight(tuple(x.shape)), self.bias, self.padding, self.stride, self.dilation,
            self.groups, "swish" if self.silu else "none", [], "")


class FusedDetect(nn.Module):
    """Detect with the sigmoid on each level's contiguous NHWC output and the decode in place;
    the output (b, boxes, 5 + classes) is float32 and in the same order as Detect's."""

    def __init__(self, detect: Detect, dtype: torch.dtype):
        super().__init__()
        self.detect = detect  # its anchors, strides and grid cache
        self.convs = nn.ModuleList(FusedConv(conv, False, dtype) for conv in detect.m)  # type: ignore[arg-type]

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        head, out = self.detect, []
        for i, x in enumerate(xs):
            x = self.convs[i](x)
            batch, _, ny, nx = x.shape
            # NHWC memory is (b, y, x, anchor, output): a view, then one sigmoid over it all.
            p = x.permute(0, 2, 3, 1).float().sigmoid_().view(batch, ny, nx, head.na, head.no)
            p = p.permute(0, 3, 1, 2, 4).contiguous()  # (b, anchor, y, x, output), Detect's order
            grid, anchor_grid = head._grid(i, nx, ny)
            xy, wh = p[..., :2], p[..., 2:4]
            xy.mul_(2).sub_(0.5).add_(grid).mul_(head.strides[i])
            wh.mul_(2).pow_(2).mul_(anchor_grid)
            out.append(p.view(batch, -1, head.no))
        return torch.cat(out, 1)


def network_input(image: np.ndarray, precision: str) -> torch.Tensor:
    """HxWx3 uint8 RGB -> (1, 3, H, W) in [0, 1], channels-last in the precision's dtype:
    the HWC array viewed as NCHW is channels-last already, so it is never transposed."""
    batch = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).unsqueeze(0).float().div_(255)
    return batch.to(DTYPES[precision])


def fuse_for_cpu(network: YoloV5, precision: str) -> YoloV5:
    """A copy of a BatchNorm-folded network with every Conv and the head replaced as above;
    its input is (b, 3, H, W) channels-last in the precision's dtype, its output float32."""
    dtype = DTYPES[precision]
    fused = copy.deepcopy(network)
    for module in list(fused.modules()):
        for name, child in module.named_children():
            if isinstance(child, Conv):
                assert child.bn is None, "fold BatchNorm first (YoloV5.fuse)"
                setattr(module, name, FusedConv(child.conv, isinstance(child.act, nn.SiLU), dtype))
            elif isinstance(child, Detect):
                setattr(module, name, FusedDetect(child, dtype))
    # Everything else (Upsample, MaxPool, Concat, the additions) runs in the dtype as it is.
    layers = [m for m in fused.modules() if isinstance(m, FusedConv) and not m.one_by_one_gemm]
    packed_bytes = sum(m.weight.numel() * m.weight.element_size() for m in layers)
    for layer in layers:
        layer.max_shapes = max(1, min(MAX_PACKED_SHAPES, PACKED_BYTES // max(1, packed_bytes)))
    return fused
