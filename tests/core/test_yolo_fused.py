"""The fused CPU network (core/yolo/fused.py) computes what the eager network computes."""

import numpy as np
import pytest
import torch
from torch import nn

from lwface_desktop.core.yolo import detector as detector_module
from lwface_desktop.core.yolo import fused
from lwface_desktop.core.yolo.detector import YoloDetector
from lwface_desktop.core.yolo.model import Conv
from lwface_desktop.core.yolo.processing import to_tensor
from tests.checkpoints import architecture_of, p6_architecture_of, random_network, v5_architecture_of

needs_onednn = pytest.mark.skipif(not fused.available(), reason="this torch has no oneDNN fused convolution")


def outputs(network, image, precision):
    """(eager, fused) outputs of a BatchNorm-folded network on an HxWx3 uint8 image."""
    network = network.fuse().eval().requires_grad_(False)
    fast = fused.fuse_for_cpu(network, precision)
    with torch.inference_mode():
        return network(to_tensor(image)), fast(fused.network_input(image, precision))


@needs_onednn
@pytest.mark.parametrize("architecture, strides", [
    (architecture_of(80), [8, 16, 32]), (v5_architecture_of(80), [8, 16, 32]),
    (p6_architecture_of(80), [8, 16, 32, 64])], ids=["v6", "v5-focus-spp", "p6"])
@pytest.mark.parametrize("height, width", [(256, 256), (192, 320)])
def test_fused_fp32_gives_the_eager_scores_and_boxes(architecture, strides, height, width):
    """random_network has random BatchNorm statistics, so the folding is exercised too."""
    image = np.random.default_rng(1).integers(0, 256, (height, width, 3), dtype=np.uint8)
    eager, fast = outputs(random_network(architecture, strides), image, "fp32")
    assert fast.dtype == torch.float32 and fast.shape == eager.shape
    assert torch.allclose(fast[..., 4:], eager[..., 4:], atol=1e-4)  # the bar for scores
    assert torch.allclose(fast[..., :4], eager[..., :4], atol=0.02)  # pixels


@needs_onednn
def test_fused_bf16_stays_close_to_fp32():
    image = np.random.default_rng(2).integers(0, 256, (256, 320, 3), dtype=np.uint8)
    eager, fast = outputs(random_network(architecture_of(80), [8, 16, 32]), image, "bf16")
    assert fast.dtype == torch.float32  # decoded in float32: bf16 would round box edges to 4 px
    assert (fast[..., 4:] - eager[..., 4:]).abs().max() < 0.1


@needs_onednn
def test_every_conv_and_silu_is_fused():
    network = random_network(architecture_of(80), [8, 16, 32]).fuse()
    convs = sum(isinstance(m, Conv) for m in network.modules())
    fast = fused.fuse_for_cpu(network, "bf16")
    assert not any(isinstance(m, (Conv, nn.SiLU, nn.BatchNorm2d)) for m in fast.modules())
    fused_convs = [m for m in fast.modules() if isinstance(m, fused.FusedConv)]
    assert len(fused_convs) == convs + 3  # and the head's three output convolutions
    assert sum(isinstance(m, Conv) for m in network.modules()) == convs  # a copy: the eager one is kept


@needs_onednn
def test_packed_weights_are_kept_for_a_bounded_number_of_input_shapes():
    conv = nn.Conv2d(8, 16, 3, 1, 1)
    layer = fused.FusedConv(conv, silu=True, dtype=torch.float32)
    with torch.inference_mode():
        for side in range(8, 8 + 2 * (fused.MAX_PACKED_SHAPES + 3), 2):
            x = torch.rand(1, 8, side, side + 2).contiguous(memory_format=torch.channels_last)
            assert torch.allclose(layer(x), nn.functional.silu(conv(x)), atol=1e-5)
            assert len(layer._packed) <= fused.MAX_PACKED_SHAPES


@needs_onednn
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_the_detector_runs_the_fused_network(random_weights, precision):
    assert YoloDetector(random_weights, img_size=320, precision=precision).engine == "fused"


def test_without_the_fused_kernel_the_eager_network_gives_the_same_detections(monkeypatch, random_weights):
    image = np.random.default_rng(3).integers(0, 256, (300, 500, 3), dtype=np.uint8)
    fast = YoloDetector(random_weights, img_size=320, precision="fp32", conf=0.01)
    monkeypatch.setattr(fused, "available", lambda: False)
    eager = YoloDetector(random_weights, img_size=320, precision="fp32", conf=0.01)
    assert eager.engine == "eager"
    expected, got = eager.detect(image), fast.detect(image)
    assert len(got) == len(expected) > 0
    for a, b in zip(got, expected, strict=True):
        assert a.label == b.label and a.score == pytest.approx(b.score, abs=1e-4) and a.iou(b) > 0.999


def test_a_fused_network_that_disagrees_is_not_used(monkeypatch, random_weights):
    """The fused kernels are private torch ops: if a torch build computes them differently,
    the detector falls back to the eager network rather than give other detections."""
    real = fused.fuse_for_cpu

    def broken(network, precision):
        fast = real(network, precision)
        for m in fast.modules():
            if isinstance(m, fused.FusedConv):
                m.bias = m.bias + 1
        return fast

    monkeypatch.setattr(detector_module.fused, "fuse_for_cpu", broken)
    assert YoloDetector(random_weights, img_size=320, precision="fp32").engine == "eager"


@needs_onednn
@pytest.mark.parametrize("c_in, c_out, kernel, stride, padding, size", [
    (3, 16, 6, 2, 2, (64, 96)),    # YOLOv5's stem
    (16, 32, 3, 2, 1, (48, 80)),   # its downsampling convolutions
    (32, 32, 3, 1, 1, (24, 40)),   # the bottlenecks' 3x3
    (64, 32, 1, 1, 0, (24, 40)),   # the 1x1 (addmm in fp32)
    (128, 255, 1, 1, 0, (6, 10)),  # a head output, no SiLU
])
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_each_fused_layer_computes_conv_bias_and_silu(c_in, c_out, kernel, stride, padding, size, precision):
    """Layer by layer, with trained-like magnitudes: the whole-network tests above can hide a
    wrong layer behind random networks' near-constant scores."""
    torch.manual_seed(0)
    conv = nn.Conv2d(c_in, c_out, kernel, stride, padding)
    nn.init.kaiming_normal_(conv.weight)
    silu = c_out != 255
    layer = fused.FusedConv(conv, silu=silu, dtype=fused.DTYPES[precision])
    x = torch.rand(1, c_in, *size).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        expected = conv(x)
        expected = nn.functional.silu(expected) if silu else expected
        got = layer(x.to(fused.DTYPES[precision])).float()
    assert got.shape == expected.shape
    tolerance = 1e-4 if precision == "fp32" else 0.05 * float(expected.abs().max())
    assert (got - expected).abs().max() <= tolerance


@needs_onednn
def test_a_big_model_keeps_fewer_packed_shapes(monkeypatch):
    network = random_network(architecture_of(80), [8, 16, 32]).fuse()

    def shapes_kept():
        return {m.max_shapes for m in fused.fuse_for_cpu(network, "fp32").modules()
                if isinstance(m, fused.FusedConv) and not m.one_by_one_gemm}  # the layers that pack

    assert shapes_kept() == {fused.MAX_PACKED_SHAPES}  # yolov5n-sized: all 8
    monkeypatch.setattr(fused, "PACKED_BYTES", 1)  # as if the weights were huge
    assert shapes_kept() == {1}


def test_a_flipped_or_strided_photo_is_detected_like_its_copy(random_weights):
    detector = YoloDetector(random_weights, img_size=320, precision="fp32", conf=0.01)
    image = np.random.default_rng(4).integers(0, 256, (320, 320, 3), dtype=np.uint8)
    flipped = image[:, ::-1]  # a view with a negative stride, at the input size: no letterbox copy
    assert detector.detect(flipped) == detector.detect(flipped.copy())


def test_any_failure_of_the_private_kernels_falls_back_to_eager(monkeypatch, random_weights):
    def refuses(network, precision):
        raise TypeError("_convolution_pointwise() takes another signature in this torch")

    monkeypatch.setattr(detector_module.fused, "fuse_for_cpu", refuses)
    detector = YoloDetector(random_weights, img_size=320, precision="fp32")
    assert detector.engine == "eager"
    assert isinstance(detector.detect(np.zeros((200, 300, 3), np.uint8)), list)
